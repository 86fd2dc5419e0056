import Testing

@testable import CLIKit

@Suite("Generated help")
struct HelpTests {
    /// Every command path in the fixture tree, from the root.
    static let allPaths: [[any Command.Type]] = {
        var paths: [[any Command.Type]] = []
        var stack: [[any Command.Type]] = [[Symbolon.self]]
        while let path = stack.popLast() {
            paths.append(path)
            for subcommand in path.last!.configuration.subcommands { stack.append(path + [subcommand]) }
        }
        return paths
    }()

    @Test("--help and -h at every level print to the output, exit 0 and list every declared argument")
    func helpAtEveryLevel() {
        #expect(Self.allPaths.count == 9)
        for path in Self.allPaths {
            let words = path.dropFirst().map { $0.configuration.commandName }
            for helpWord in ["--help", "-h"] {
                let outcome = invoke(words + [helpWord])
                let name = (["symbolon"] + words).joined(separator: " ")
                #expect(outcome.code == .success, "\(name) \(helpWord)")
                #expect(outcome.errorOutput.isEmpty, "\(name) \(helpWord)")
                #expect(outcome.output.contains("USAGE: \(name)"), "\(name) \(helpWord)")
                #expect(outcome.output.contains("-h, --help"))
                let command = path.last!
                if !command.configuration.abstract.isEmpty {
                    #expect(outcome.output.contains("OVERVIEW: \(command.configuration.abstract)"))
                }
                for declaration in command.arguments {
                    #expect(outcome.output.contains(declaration.helpLabel), "\(name) lists \(declaration.helpLabel)")
                    #expect(outcome.output.contains(declaration.help), "\(name) explains \(declaration.helpLabel)")
                }
                for subcommand in command.configuration.subcommands {
                    #expect(outcome.output.contains("  \(subcommand.configuration.commandName) "))
                    #expect(outcome.output.contains(subcommand.configuration.abstract))
                }
            }
        }
    }

    @Test("leaf help shows overview, discussion, usage, arguments and aligned options with defaults")
    func leafHelpLayout() {
        let expected = """
            OVERVIEW: Issue a certificate for a workload.

            Signs with the online intermediate and records the certificate in the inventory.

            Example:
              symbolon ca issue --dir /var/lib/ca --profile service --dns api.internal

            USAGE: symbolon ca issue --dir <DIR> --profile <PROFILE> [--dns <NAME> ...] [--cn <NAME>]
                                     [--out-cert <FILE>] [--validity <DURATION>] [--dry-run] [<CSR>]

            ARGUMENTS:
              <CSR>                   A certificate signing request to sign instead of a new key.

            OPTIONS:
              --dir <DIR>             The CA directory.
              --profile <PROFILE>     The issuance profile.
              --dns <NAME>            A DNS name to include. (repeatable)
              --cn <NAME>             The subject common name.
              -o, --out-cert <FILE>   Where to write the certificate. (default: cert.pem)
              --validity <DURATION>   How long the certificate is valid. (default: 24h)
              -n, --dry-run           Show what would be issued without issuing it.
              -h, --help              Show help information.

            """
        #expect(invoke(["ca", "issue", "--help"]).output == expected)
    }

    @Test("group help lists subcommands with their abstracts and points at 'help <subcommand>'")
    func groupHelpLayout() {
        let expected = """
            OVERVIEW: Operate the private certificate authority.

            USAGE: symbolon ca <subcommand>

            OPTIONS:
              -h, --help              Show help information.

            SUBCOMMANDS:
              issue                   Issue a certificate for a workload.
              list                    List issued certificates.
              revoke                  Revoke a certificate by serial.

              See 'symbolon help ca <subcommand>' for detailed help.

            """
        #expect(invoke(["ca", "--help"]).output == expected)
        #expect(invoke(["--help"]).output.contains("  help                    Show subcommand help information."))
    }

    @Test("'symbolon help ca issue' prints the same help as 'symbolon ca issue --help'")
    func helpSubcommand() {
        let viaHelp = invoke(["help", "ca", "issue"])
        #expect(viaHelp.code == .success)
        #expect(viaHelp.output == invoke(["ca", "issue", "--help"]).output)
        #expect(invoke(["help"]).output == invoke(["--help"]).output)
        #expect(invoke(["help", "ca"]).output == invoke(["ca", "-h"]).output)
    }

    @Test("'help' naming an unknown command, or too many words, is a usage error")
    func helpSubcommandErrors() {
        let unknown = invoke(["help", "ca", "isue"])
        #expect(unknown.code == .usage)
        #expect(unknown.errorOutput.contains("unknown subcommand 'isue' for 'symbolon ca'. Did you mean 'issue'?"))

        let tooDeep = invoke(["help", "ca", "issue", "extra"])
        #expect(tooDeep.code == .usage)
        #expect(tooDeep.errorOutput.contains("unexpected argument 'extra'"))
    }

    @Test("--help wins over every other mistake on the same command line")
    func helpWinsOverErrors() {
        let outcome = invoke(["ca", "issue", "--bogus", "--max-depth=x", "--help", "--dir"])
        #expect(outcome.code == .success)
        #expect(outcome.errorOutput.isEmpty)
        #expect(outcome.output.contains("USAGE: symbolon ca issue"))
        #expect(invoke(["ca", "isue", "-h"]).output.contains("USAGE: symbolon ca <subcommand>"))
    }

    @Test("--help after -- is a positional argument, not a help request")
    func helpAfterTerminator() throws {
        let outcome = invoke(["ca", "revoke", "--", "--help"])
        #expect(outcome.code == Revoke.exitCode)
        #expect(outcome.output.isEmpty)
        #expect(try Revoke.parse(["--", "--help"]).serial == "--help")
    }

    @Test("long help text is wrapped to 100 columns under its own column")
    func wrapping() {
        struct Verbose: Command {
            static let configuration = CommandConfiguration(
                commandName: "verbose",
                abstract: String(repeating: "overview words ", count: 20),
                discussion: String(repeating: "discussion words ", count: 20))
            static let arguments: [ArgumentSpec] = [
                .option(long: "a", help: String(repeating: "option help ", count: 30)),
                .option(long: "a-very-long-option-name-indeed", valueName: "SOMETHING-LONG", help: "Short help."),
            ]
            init(parsed: ParsedArguments) {}
            func run() throws -> ExitCode { .success }
        }
        let output = invoke(["--help"], root: Verbose.self).output
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= 100 })
        #expect(lines.filter { $0.contains("option help") }.count >= 4)
        let continuation = lines.first { $0.hasPrefix(" ") && $0.contains("option help") && !$0.contains("--a ") }
        #expect(continuation?.prefix { $0 == " " }.count == 26)
        // The label too wide for the column gets a line to itself, its help on the next line.
        #expect(
            output.contains(
                "  --a-very-long-option-name-indeed <SOMETHING-LONG>\n                          Short help."))
    }
}
