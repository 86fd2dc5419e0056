/// One `symbolon` command: a leaf that does work, or a group that routes to its subcommands.
///
/// `CommandRunner` parses the whole command line first, then creates the command with `init(parsed:)`, then
/// calls `validate()`, and only then `run()`; nothing runs if an earlier step throws. Commands never call
/// `exit`: they return an `ExitCode` or throw, and the runner decides what the process reports.
///
/// ```swift
/// struct Issue: Command {
///     static let configuration = CommandConfiguration(commandName: "issue", abstract: "Issue a certificate.")
///     static let arguments: [ArgumentSpec] = [
///         .option(long: "dir", valueName: "DIR", help: "The CA directory.", isRequired: true),
///         .option(long: "dns", valueName: "NAME", help: "A DNS name to include.", isRepeating: true),
///     ]
///     let directory: String
///     let dnsNames: [String]
///     init(parsed: ParsedArguments) throws {
///         directory = try parsed.requiredString("dir")
///         dnsNames = parsed.strings("dns")
///     }
///     func run() throws -> ExitCode { ... }
/// }
/// ```
///
/// Commands are described by their types (`[any Command.Type]` in `CommandConfiguration`), so the protocol
/// refines `SendableMetatype`: the metatypes are shared freely, instances are not.
public protocol Command: SendableMetatype {
    /// The command's name, help text and subcommands.
    static var configuration: CommandConfiguration { get }

    /// The options, flags and positional arguments the command accepts; drives parsing and `--help`.
    /// Defaults to none, which suits groups. `--help` and `-h` are reserved.
    static var arguments: [ArgumentSpec] { get }

    /// Creates the command from parsed arguments, reading typed values; throws `UsageError` for bad values.
    /// Not called for groups, which never run.
    init(parsed: ParsedArguments) throws

    /// Checks combinations of arguments after parsing and before running; throws `UsageError` (exit 2).
    /// Defaults to accepting everything. Should not touch the file system or the network.
    func validate() throws

    /// Does the command's work. Throw to fail (exit 1 unless the error is `ExitCodeProviding`), or return an
    /// exit code, e.g. `.thresholdCrossed` for a check that found something.
    func run() throws -> ExitCode
}

extension Command {
    /// No arguments: the default for groups.
    public static var arguments: [ArgumentSpec] { [] }

    /// Accepts every combination of arguments.
    public func validate() throws {}

    /// Fails with a usage error; only reached if a command declares no subcommands and forgets `run()`.
    public func run() throws -> ExitCode {
        throw UsageError(
            "'\(Self.configuration.commandName)' does nothing by itself; choose one of its subcommands",
            code: .missingSubcommand)
    }

    /// Parses `arguments` (the words after this command's name) into a validated command, without running it.
    ///
    /// Meant for tests of a single command. Subcommands and `--help` are not handled here: `--help` is reported
    /// as an unknown option. Use `CommandRunner.run` for the full behaviour.
    public static func parse(_ arguments: [String]) throws -> Self {
        let commandPath = [configuration.commandName]
        let parser = try ArgumentParser(declarations: Self.arguments, commandPath: commandPath)
        let command = try Self(parsed: parser.parse(arguments))
        try command.validate()
        return command
    }
}
