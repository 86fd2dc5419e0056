import Testing

@testable import CLIKit

@Suite("Dispatch to subcommands")
struct DispatchTests {
    @Test("nested subcommand names are walked to the leaf that runs")
    func nestedDispatch() {
        let issued = invoke(["ca", "issue", "--dir", "d", "--profile", "service", "--dns", "a"])
        #expect(issued.code == Issue.exitCode)
        #expect(issued.output.isEmpty && issued.errorOutput.isEmpty)

        #expect(invoke(["ca", "revoke", "0A1B"]).code == Revoke.exitCode)
        #expect(invoke(["agent", "renew"]).code == Renew.exitCode)
    }

    @Test("a group invoked without a subcommand prints its help to the error output and exits 2")
    func groupWithoutSubcommand() {
        let root = invoke([])
        #expect(root.code == .usage)
        #expect(root.output.isEmpty)
        #expect(root.errorOutput.contains("USAGE: symbolon <subcommand>"))

        let ca = invoke(["ca"])
        #expect(ca.code == .usage)
        #expect(ca.output.isEmpty)
        #expect(ca.errorOutput.contains("USAGE: symbolon ca <subcommand>"))
        #expect(ca.errorOutput.contains("issue"))
    }

    @Test("an unknown subcommand is a usage error that lists the available ones and suggests a close one")
    func unknownSubcommandWithSuggestion() {
        let outcome = invoke(["ca", "isue", "--dir", "d"])
        #expect(outcome.code == .usage)
        #expect(outcome.output.isEmpty)
        #expect(
            outcome.errorOutput == """
                error: unknown subcommand 'isue' for 'symbolon ca'. Did you mean 'issue'? \
                Available subcommands: issue, list, revoke.
                Run 'symbolon ca --help' for usage.

                """)
    }

    @Test("an unknown subcommand far from every name is listed without a suggestion")
    func unknownSubcommandWithoutSuggestion() {
        let outcome = invoke(["frobnicate"])
        #expect(outcome.code == .usage)
        #expect(outcome.errorOutput.contains("unknown subcommand 'frobnicate' for 'symbolon'"))
        #expect(outcome.errorOutput.contains("Available subcommands: ca, agent, fail"))
        #expect(!outcome.errorOutput.contains("Did you mean"))
        #expect(outcome.errorOutput.contains("Run 'symbolon --help' for usage."))
    }

    @Test("options given to a group before any subcommand name are a usage error")
    func optionsBeforeSubcommand() {
        let outcome = invoke(["ca", "--dir", "d", "issue"])
        #expect(outcome.code == .usage)
        #expect(outcome.errorOutput.contains("'symbolon ca' needs a subcommand before '--dir'"))
        #expect(outcome.errorOutput.contains("issue, list, revoke"))
    }

    @Test("a group's default subcommand runs when no subcommand is named, and only then")
    func defaultSubcommand() {
        #expect(invoke(["agent"]).code == Status.exitCode)
        #expect(invoke(["agent", "--verbose"]).code == Status.exitCode)
        #expect(invoke(["agent", "status", "-v"]).code == Status.exitCode)
        #expect(invoke(["agent", "renew"]).code == Renew.exitCode)
        #expect(invoke(["agent", "renw"]).code == .usage)

        let help = invoke(["agent", "--help"])
        #expect(help.code == .success)
        #expect(help.output.contains("USAGE: symbolon agent <subcommand>"))
        #expect(help.output.contains("status (default)"))
    }

    @Test("parsing happens before running: a bad value stops the command before run()")
    func parseBeforeRun() {
        let outcome = invoke(["ca", "list", "--max-depth", "deep"])
        #expect(outcome.code == .usage)
        #expect(outcome.errorOutput.hasPrefix("error: --max-depth expects an integer, got 'deep'\n"))
    }

    @Test("validate() failures are usage errors with the command's help hint")
    func validationFailure() {
        let outcome = invoke(["ca", "issue", "--dir", "d", "--profile", "p"])
        #expect(outcome.code == .usage)
        #expect(
            outcome.errorOutput == """
                error: give at least one --dns NAME or a --cn NAME
                Run 'symbolon ca issue --help' for usage.

                """)
    }
}
