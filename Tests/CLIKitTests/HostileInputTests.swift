import Testing

@testable import CLIKit

@Suite("Hostile and odd input")
struct HostileInputTests {
    @Test(
        "odd command lines end in a defined exit code instead of a crash",
        arguments: [
            ([], ExitCode.usage), (["--"], .usage), (["--", "--"], .usage), ([""], .usage), (["-"], .usage),
            (["="], .usage), (["--="], .usage), (["-="], .usage), (["---"], .usage), (["-h", "--"], .success),
            (["ca", "issue", "--"], .usage), (["ca", "issue", "--="], .usage), (["ca", "issue", "-"], .usage),
            (["ca", "issue", "--dir=", "--profile=", "--cn="], Issue.exitCode),
            (["ca", "issue", "--dir", "", "--profile", "", "--dns", ""], Issue.exitCode),
            (["ça", "issue"], .usage), (["ca", "ïssue"], .usage), (["ca", "issue", "--dïr", "x"], .usage),
            (["ca", "issue", "--dir", "🔐", "--profile", "сервис", "--cn", "名前"], Issue.exitCode),
            (["ca", "revoke", "\u{0}"], Revoke.exitCode), (["ca", "revoke", "-\u{0}"], .usage),
            (["ca", "list", "--expiring-within", "١h"], .usage), (["ca", "list", "--max-depth", "٣"], .usage),
            (["help", "--"], .usage), (["help", "-h"], .success), (["agent", "--", "x"], .usage),
        ] as [([String], ExitCode)])
    func oddCommandLines(arguments: [String], expected: ExitCode) {
        let outcome = invoke(arguments)
        #expect(outcome.code == expected, "\(arguments)")
        if expected == .usage { #expect(!outcome.errorOutput.isEmpty) }
    }

    @Test("ten thousand arguments are parsed in order")
    func manyArguments() throws {
        let names = (0..<5_000).map { "n\($0).example" }
        let arguments = ["--dir", "d", "--profile", "p"] + names.flatMap { ["--dns", $0] }
        #expect(try Issue.parse(arguments).dnsNames == names)
        #expect(invoke(["ca", "issue"] + arguments).code == Issue.exitCode)

        let filters = (0..<10_000).map { "f\($0)" }
        #expect(try List.parse(filters).filters == filters)

        let junk = invoke(["ca", "revoke"] + Array(repeating: "x", count: 10_000))
        #expect(junk.code == .usage)
        #expect(junk.errorOutput.contains("unexpected argument 'x'"))
    }

    @Test("a megabyte-long argument is quoted short in the error message")
    func longArgument() throws {
        let huge = String(repeating: "x", count: 1_000_000)
        for arguments in [["ca", huge], ["ca", "issue", "--" + huge], ["ca", "list", "--format", huge], [huge]] {
            let outcome = invoke(arguments)
            #expect(outcome.code == .usage)
            #expect(outcome.errorOutput.count < 400)
            #expect(outcome.errorOutput.contains("…'"))
        }
        #expect(try Revoke.parse([huge]).serial.count == 1_000_000)
    }

    @Test("control and bidi characters typed by the user are escaped in error messages")
    func controlCharacters() {
        let outcome = invoke(["ca", "\u{1B}[2J\u{202E}gpj.exe\n"])
        #expect(outcome.code == .usage)
        #expect(!outcome.errorOutput.contains("\u{1B}"))
        #expect(!outcome.errorOutput.contains("\u{202E}"))
        #expect(outcome.errorOutput.contains("'\\u{1b}[2J\\u{202e}gpj.exe\\u{a}'"))
        #expect(outcome.errorOutput.split(separator: "\n").count == 2)
    }

    @Test("suggestions stay cheap and sensible for long or short names")
    func suggestions() {
        #expect(Suggestion.closest(to: "isue", among: ["issue", "list"]) == "issue")
        #expect(Suggestion.closest(to: "ab", among: ["cn"]) == nil)
        #expect(Suggestion.closest(to: String(repeating: "a", count: 1_000_000), among: ["a"]) == nil)
        #expect(Suggestion.editDistance("kitten", "sitting", limit: 3) == 3)
        #expect(Suggestion.editDistance("", "ab", limit: 2) == 2)
        #expect(Suggestion.editDistance("é", "e", limit: 2) == 1)
    }
}
