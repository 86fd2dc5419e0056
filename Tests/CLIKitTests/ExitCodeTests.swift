import Testing

@testable import CLIKit

@Suite("Errors and exit codes")
struct ExitCodeTests {
    @Test("the named exit codes keep their numbers")
    func numbers() {
        #expect(ExitCode.success.rawValue == 0)
        #expect(ExitCode.failure.rawValue == 1)
        #expect(ExitCode.usage.rawValue == 2)
        #expect(ExitCode.unsupported.rawValue == 3)
        #expect(ExitCode.thresholdCrossed.rawValue == 4)
        #expect(ExitCode.success.isSuccess && !ExitCode.failure.isSuccess)
    }

    @Test("an error that provides an exit code ends the process with that code and no help hint")
    func customExitCode() {
        let outcome = invoke(["fail", "--kind", "custom"])
        #expect(outcome.code == .unsupported)
        #expect(outcome.output.isEmpty)
        #expect(outcome.errorOutput == "error: ed448 keys are not supported by this build; use ed25519\n")
    }

    @Test("an error without an exit code of its own ends the process with 1")
    func plainError() {
        let outcome = invoke(["fail", "--kind=plain"])
        #expect(outcome.code == .failure)
        #expect(outcome.errorOutput == "error: the store is locked by another process; retry when it exits\n")
        #expect(CommandRunner.exitCode(for: StoreLocked()) == .failure)
        #expect(CommandRunner.exitCode(for: AlgorithmUnsupported()) == .unsupported)
        #expect(CommandRunner.exitCode(for: UsageError("x")) == .usage)
    }

    @Test("a usage error thrown from run() exits 2 with the running command's help hint")
    func usageErrorFromRun() {
        let outcome = invoke(["fail", "--kind", "usage"])
        #expect(outcome.code == .usage)
        #expect(
            outcome.errorOutput
                == "error: --kind usage always fails; pick another kind\nRun 'symbolon fail --help' for usage.\n")
    }

    @Test("an exit code returned by run() is passed through")
    func returnedExitCode() {
        #expect(invoke(["ca", "list"]).code == .success)
        let crossed = invoke(["ca", "list", "--expiring-within", "30d"])
        #expect(crossed.code == .thresholdCrossed)
        #expect(crossed.errorOutput.isEmpty)
    }

    @Test("every usage error from the parser exits 2 with the leaf's help hint")
    func parserErrorsExitTwo() {
        for arguments in [
            ["ca", "issue", "--dri"], ["ca", "issue", "--dir"], ["ca", "revoke"], ["ca", "revoke", "1", "2"],
            ["ca", "issue", "--dry-run=1"], ["ca", "list", "--format", "xml"],
            ["ca", "list", "--format", "a", "--format", "b"],
        ] {
            let outcome = invoke(arguments)
            #expect(outcome.code == .usage, "\(arguments)")
            let command = arguments.prefix(2).joined(separator: " ")
            #expect(outcome.errorOutput.hasPrefix("error: "), "\(arguments)")
            #expect(outcome.errorOutput.hasSuffix("\nRun 'symbolon \(command) --help' for usage.\n"), "\(arguments)")
        }
    }

    @Test("a broken declaration is reported as an error with exit 1, not a crash")
    func brokenDeclaration() {
        let outcome = invoke([], root: Broken.self)
        #expect(outcome.code == .failure)
        #expect(
            outcome.errorOutput
                == "error: command 'broken' is declared wrongly: --dir is declared twice (or is the reserved --help)\n")
        #expect(throws: (any Error).self) { try CommandRunner.validateDeclarations(of: Broken.self) }
    }

    @Test("the fixture tree's declarations are valid, and loops or duplicate names are caught")
    func validateDeclarations() throws {
        try CommandRunner.validateDeclarations(of: Symbolon.self)

        struct Twice: Command {
            static let configuration = CommandConfiguration(
                commandName: "twice", subcommands: [Renew.self, Renew.self])
            init(parsed: ParsedArguments) {}
        }
        struct Looping: Command {
            static let configuration = CommandConfiguration(
                commandName: "loop", subcommands: [Looping.self], defaultSubcommand: Looping.self)
            init(parsed: ParsedArguments) {}
        }
        #expect(throws: (any Error).self) { try CommandRunner.validateDeclarations(of: Twice.self) }
        #expect(throws: (any Error).self) { try CommandRunner.validateDeclarations(of: Looping.self) }
        // Even undetected, a looping default subcommand must not hang the runner.
        #expect(invoke([], root: Looping.self).code == .usage)
    }

    @Test("a command without subcommands that forgets run() fails with a usage error instead of doing nothing")
    func defaultRun() {
        struct Forgetful: Command {
            static let configuration = CommandConfiguration(commandName: "forgetful")
            init(parsed: ParsedArguments) {}
        }
        let outcome = invoke([], root: Forgetful.self)
        #expect(outcome.code == .usage)
        #expect(outcome.errorOutput.contains("'forgetful' does nothing by itself"))
    }
}
