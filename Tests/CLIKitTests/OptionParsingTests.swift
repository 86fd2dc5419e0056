import Testing

@testable import CLIKit

@Suite("Options, flags and positionals")
struct OptionParsingTests {
    static let required = ["--dir", "d", "--profile", "p", "--cn", "n"]

    @Test("--name value, --name=value and -n value give the same value")
    func optionForms() throws {
        #expect(try Issue.parse(Self.required + ["--out-cert", "a.pem"]).outCert == "a.pem")
        #expect(try Issue.parse(Self.required + ["--out-cert=a.pem"]).outCert == "a.pem")
        #expect(try Issue.parse(Self.required + ["-o", "a.pem"]).outCert == "a.pem")
        #expect(try Issue.parse(Self.required + ["--out-cert=a=b.pem"]).outCert == "a=b.pem")
        #expect(try Issue.parse(Self.required + ["--out-cert="]).outCert == "")
    }

    @Test("flags are off unless given, in long or short form")
    func flags() throws {
        #expect(try Issue.parse(Self.required).dryRun == false)
        #expect(try Issue.parse(Self.required + ["--dry-run"]).dryRun)
        #expect(try Issue.parse(Self.required + ["-n"]).dryRun)
        #expect(try Issue.parse(Self.required + ["-n", "--dry-run"]).dryRun)
    }

    @Test("a flag given a value is a usage error")
    func flagWithValue() {
        let error = usageError { try Issue.parse(Self.required + ["--dry-run=yes"]) }
        #expect(error?.code == .unexpectedValue)
        #expect(error?.reason == "--dry-run is a flag and takes no value; remove '=yes'")
    }

    @Test("an option's value may start with a dash when it follows the option or comes after '='")
    func dashValues() throws {
        #expect(try Issue.parse(["--dir", "d", "--profile", "p", "--cn", "-weird-"]).commonName == "-weird-")
        #expect(try Issue.parse(["--dir", "d", "--profile", "p", "--cn", "-"]).commonName == "-")
        #expect(try Issue.parse(["--dir", "d", "--profile", "p", "--cn=--dir"]).commonName == "--dir")
        #expect(try List.parse(["--max-depth", "-2"]).maxDepth == -2)
    }

    @Test("an option followed by one of the command's own options is missing its value")
    func valueSwallowingIsRefused() {
        let error = usageError { try Issue.parse(["--cn", "--dir", "d", "--profile", "p"]) }
        #expect(error?.code == .missingValue)
        #expect(
            error?.reason
                == "missing value for --cn <NAME>; to pass '--dir' as its value, join them with '=': --cn=<NAME>")
        #expect(usageError { try Issue.parse(Self.required + ["--dns", "--"]) }?.code == .missingValue)
    }

    @Test("an option as the last word is missing its value")
    func missingValueAtEnd() {
        let error = usageError { try Issue.parse(Self.required + ["--dns"]) }
        #expect(error?.code == .missingValue)
        #expect(error?.reason == "missing value for --dns <NAME>")
        #expect(usageError { try Issue.parse(Self.required + ["-o"]) }?.code == .missingValue)
    }

    @Test("a repeating option keeps every value in command-line order")
    func repeatingOrder() throws {
        let issue = try Issue.parse(["--dns", "c", "--dir", "d", "--dns=a", "--profile", "p", "--dns", "b"])
        #expect(issue.dnsNames == ["c", "a", "b"])
        #expect(try Issue.parse(Self.required).dnsNames == [])
    }

    @Test("a non-repeating option given twice is a usage error")
    func duplicateOption() {
        let error = usageError { try Issue.parse(Self.required + ["-o", "a", "--out-cert=b"]) }
        #expect(error?.code == .duplicateOption)
        #expect(error?.reason == "--out-cert was given more than once; give it once")
    }

    @Test("defaults apply when an option is not given, and do not count as given")
    func defaults() throws {
        let issue = try Issue.parse(Self.required)
        #expect(issue.outCert == "cert.pem")
        #expect(issue.validity == .seconds(86_400))
        #expect(issue.csr == nil)
        let parsed = try ArgumentParser(declarations: Issue.arguments, commandPath: ["issue"]).parse(Self.required)
        #expect(parsed.string("out-cert") == "cert.pem")
        #expect(parsed.strings("out-cert") == ["cert.pem"])
        #expect(!parsed.isPresent("out-cert"))
        #expect(parsed.isPresent("cn"))
        #expect(parsed.string("not-declared") == nil)
    }

    @Test("missing required options are named with their value names")
    func requiredMissing() {
        let one = usageError { try Issue.parse(["--profile", "p", "--cn", "n"]) }
        #expect(one?.code == .missingArgument)
        #expect(one?.reason == "missing required option --dir <DIR>")
        let two = usageError { try Issue.parse(["--cn", "n"]) }
        #expect(two?.reason == "missing required options --dir <DIR>, --profile <PROFILE>")
    }

    @Test("requiredString names the option and its value name when neither value nor default exists")
    func requiredString() throws {
        let parsed = try ArgumentParser(declarations: Issue.arguments, commandPath: ["symbolon", "ca", "issue"])
            .parse(["--dir", "d", "--profile", "p"])
        #expect(try parsed.requiredString("dir") == "d")
        #expect(try parsed.requiredString("out-cert") == "cert.pem")
        let error = usageError { try parsed.requiredString("cn") }
        #expect(error?.reason == "missing --cn <NAME>")
        #expect(error?.helpHint == "Run 'symbolon ca issue --help' for usage.")
    }

    @Test("an unknown option is a usage error suggesting the closest declared option")
    func unknownOption() {
        let typo = usageError { try Issue.parse(Self.required + ["--dri", "x"]) }
        #expect(typo?.code == .unknownOption)
        #expect(typo?.reason == "unknown option '--dri'. Did you mean '--dir'?")
        #expect(
            usageError { try Issue.parse(Self.required + ["--out-cret=x"]) }?.reason
                == "unknown option '--out-cret'. Did you mean '--out-cert'?")
        #expect(
            usageError { try Issue.parse(Self.required + ["-dir", "x"]) }?.reason
                == "unknown option '-dir'. Did you mean '--dir'?")
        #expect(usageError { try Issue.parse(Self.required + ["--zzzzzz"]) }?.reason == "unknown option '--zzzzzz'")
        #expect(usageError { try Issue.parse(Self.required + ["-x"]) }?.code == .unknownOption)
        #expect(usageError { try Renew.parse(["--x"]) }?.reason == "unknown option '--x'; 'renew' takes no options")
    }

    @Test("-- ends options: every later word is positional, even one that looks like an option")
    func terminator() throws {
        #expect(try Revoke.parse(["--", "--reason"]).serial == "--reason")
        #expect(try Revoke.parse(["--reason", "keyCompromise", "--", "-1"]).serial == "-1")
        #expect(try List.parse(["a", "--", "--format", "--"]).filters == ["a", "--format", "--"])
        #expect(try List.parse(["--"]).filters == [])
    }

    @Test("positionals fill in order; a repeating last positional takes the rest")
    func positionals() throws {
        #expect(try Revoke.parse(["0A"]).serial == "0A")
        #expect(try List.parse(["x", "--format", "json", "y", "z"]).filters == ["x", "y", "z"])
        #expect(try Issue.parse(Self.required + ["req.csr"]).csr == "req.csr")
        #expect(try Issue.parse(Self.required + ["-"]).csr == "-")
    }

    @Test("too many positionals, or a missing required one, is a usage error")
    func positionalCount() {
        let extra = usageError { try Revoke.parse(["1", "2"]) }
        #expect(extra?.code == .unexpectedArgument)
        #expect(extra?.reason == "unexpected argument '2'")
        #expect(
            usageError { try Renew.parse(["now"]) }?.reason
                == "unexpected argument 'now'; this command takes no positional arguments")
        let missing = usageError { try Revoke.parse(["--reason", "superseded"]) }
        #expect(missing?.code == .missingArgument)
        #expect(missing?.reason == "missing argument <SERIAL>")
    }

    @Test("inconsistent argument tables are reported as declaration errors, not crashes")
    func declarationChecks() {
        func rejects(_ declarations: [ArgumentSpec]) -> Bool {
            (try? ArgumentParser(declarations: declarations, commandPath: ["x"])) == nil
        }
        #expect(rejects([.option(long: "dir", help: ""), .flag(long: "dir", help: "")]))
        #expect(rejects([.flag(long: "help", help: "")]))
        #expect(rejects([.flag(long: "verbose", short: "h", help: "")]))
        #expect(rejects([.flag(long: "a", short: "v", help: ""), .flag(long: "b", short: "v", help: "")]))
        #expect(rejects([.option(long: "--dir", help: "")]))
        #expect(rejects([.option(long: "a=b", help: "")]))
        #expect(rejects([.option(long: "", help: "")]))
        #expect(rejects([.option(long: "dir", help: "", defaultValue: "x", isRequired: true)]))
        #expect(rejects([.positional(name: "A", help: "", isRepeating: true), .positional(name: "B", help: "")]))
        #expect(rejects([.positional(name: "A", help: "", isOptional: true), .positional(name: "B", help: "")]))
        #expect(!rejects(Issue.arguments))
        #expect(!rejects(List.arguments))
    }
}
