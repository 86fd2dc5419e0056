#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Musl)
    internal import Musl
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Finds the command a command line names, parses its arguments, validates and runs it, and turns the
/// outcome into an exit code. This is the one place where errors become exit codes and messages.
///
/// - `symbolon ca issue …` walks subcommands by name; `symbolon help ca issue` and `--help`/`-h` anywhere
///   before `--` print that command's help to the output and exit 0, without parsing anything else.
/// - A group given no subcommand prints its help to the error output and exits 2.
/// - Errors print `error: <message>` to the error output; usage errors add
///   `Run '<command> --help' for usage.` and exit 2; other errors exit with their `ExitCodeProviding` code,
///   or 1.
public enum CommandRunner {
    /// Runs the command named by `arguments` (the words after the binary's name) and returns the exit code.
    ///
    /// Never exits and never traps on any input, which makes it the entry point for tests. Help goes to
    /// `output`, errors to `errorOutput`; what the command itself prints is up to the command.
    public static func run(
        _ root: any Command.Type,
        arguments: [String],
        output: inout some TextOutputStream,
        errorOutput: inout some TextOutputStream
    ) -> ExitCode {
        var path: [any Command.Type] = [root]
        do {
            switch try resolve(arguments, path: &path) {
            case .help:
                output.write(HelpFormatter(path: path).render())
                return .success
            case .missingSubcommand:
                errorOutput.write(HelpFormatter(path: path).render())
                return .usage
            case .leaf(let command, let tokens):
                let parser = try ArgumentParser(declarations: command.arguments, commandPath: names(path))
                let instance = try command.init(parsed: parser.parse(tokens))
                try instance.validate()
                return try instance.run()
            }
        } catch {
            errorOutput.write(message(for: error, commandPath: names(path)))
            return exitCode(for: error)
        }
    }

    /// Runs the command named by the process's arguments, writes to standard output and standard error, and
    /// exits with the resulting code. Call it once from `main.swift`.
    public static func main(_ root: any Command.Type) -> Never {
        var output = FileDescriptorStream.standardOutput
        var errorOutput = FileDescriptorStream.standardError
        let code = run(
            root, arguments: Array(CommandLine.arguments.dropFirst()), output: &output,
            errorOutput: &errorOutput)
        exit(code.rawValue)
    }

    /// The exit code an error ends the process with: its own if it is `ExitCodeProviding`, otherwise 1.
    public static func exitCode(for error: any Error) -> ExitCode {
        (error as? any ExitCodeProviding)?.exitCode ?? .failure
    }

    /// Checks every command reachable from `root`: argument tables, subcommand names, default subcommands.
    ///
    /// The runner only checks the command it runs, so call this from a test to catch a broken declaration
    /// anywhere in the tree. Throws an error describing the first problem.
    public static func validateDeclarations(of root: any Command.Type) throws {
        var stack: [[any Command.Type]] = [[root]]
        while let path = stack.popLast() {
            guard let command = path.last else { continue }
            let configuration = command.configuration
            let commandPath = names(path)
            _ = try ArgumentParser(declarations: command.arguments, commandPath: commandPath)
            var seen: Set<String> = []
            for subcommand in configuration.subcommands {
                let name = subcommand.configuration.commandName
                guard !name.isEmpty, !name.hasPrefix("-"), seen.insert(name).inserted else {
                    throw DeclarationError(
                        reason: "subcommand name '\(name)' is empty, starts with '-' or is used twice",
                        commandPath: commandPath)
                }
                guard !path.contains(where: { $0 == subcommand }) else {
                    throw DeclarationError(reason: "subcommand '\(name)' contains itself", commandPath: commandPath)
                }
                stack.append(path + [subcommand])
            }
            if let defaultSubcommand = configuration.defaultSubcommand,
                !configuration.subcommands.contains(where: { $0 == defaultSubcommand })
            {
                throw DeclarationError(
                    reason: "the default subcommand is not one of its subcommands", commandPath: commandPath)
            }
        }
    }

    enum Resolution {
        case help
        case missingSubcommand
        case leaf(any Command.Type, [String])
    }

    /// Walks subcommand names from the start of `arguments`, extending `path`, and says what to do next.
    static func resolve(_ arguments: [String], path: inout [any Command.Type]) throws -> Resolution {
        var rest = arguments[...]
        if let root = path.first, root.configuration.isGroup, rest.first == "help",
            subcommand(named: "help", in: root) == nil
        {
            for word in rest.dropFirst() where word != "--help" && word != "-h" {
                guard let current = path.last, current.configuration.isGroup else {
                    throw UsageError(
                        "unexpected argument \(UsageError.quoted(word)); '\(names(path).joined(separator: " "))' "
                            + "has no subcommands", code: .unexpectedArgument, commandPath: names(path))
                }
                guard let next = subcommand(named: word, in: current) else {
                    throw unknownSubcommand(word, path: path)
                }
                path.append(next)
            }
            return .help
        }

        let wantsHelp = rest.prefix { $0 != "--" }.contains { $0 == "--help" || $0 == "-h" }
        while let current = path.last, current.configuration.isGroup {
            if let word = rest.first, let next = subcommand(named: word, in: current) {
                path.append(next)
                rest = rest.dropFirst()
            } else if !wantsHelp, let next = current.configuration.defaultSubcommand,
                rest.first?.hasPrefix("-") ?? true, !path.contains(where: { $0 == next })
            {
                path.append(next)
            } else {
                break
            }
        }
        if wantsHelp { return .help }
        guard let current = path.last else { return .missingSubcommand }
        guard current.configuration.isGroup else { return .leaf(current, Array(rest)) }
        guard let word = rest.first else { return .missingSubcommand }
        if word.hasPrefix("-") {
            throw UsageError(
                "'\(names(path).joined(separator: " "))' needs a subcommand before \(UsageError.quoted(word)); "
                    + "choose one of: \(subcommandNames(current).joined(separator: ", "))",
                code: .missingSubcommand, commandPath: names(path))
        }
        throw unknownSubcommand(word, path: path)
    }

    private static func unknownSubcommand(_ word: String, path: [any Command.Type]) -> UsageError {
        let available = path.last.map(subcommandNames) ?? []
        var reason = "unknown subcommand \(UsageError.quoted(word)) for '\(names(path).joined(separator: " "))'"
        if let suggestion = Suggestion.closest(to: word, among: available) {
            reason += ". Did you mean '\(suggestion)'?"
        }
        reason += " Available subcommands: \(available.joined(separator: ", "))."
        return UsageError(reason, code: .unknownSubcommand, commandPath: names(path))
    }

    private static func subcommand(named name: String, in group: any Command.Type) -> (any Command.Type)? {
        group.configuration.subcommands.first { $0.configuration.commandName == name }
    }

    private static func subcommandNames(_ group: any Command.Type) -> [String] {
        group.configuration.subcommands.map { $0.configuration.commandName }
    }

    private static func names(_ path: [any Command.Type]) -> [String] {
        path.map { $0.configuration.commandName }
    }

    /// `error: <message>\n`, plus the help hint for usage errors.
    static func message(for error: any Error, commandPath: [String]) -> String {
        var text = "error: \(error)\n"
        if var usageError = error as? UsageError {
            if usageError.commandPath.isEmpty { usageError.commandPath = commandPath }
            if let hint = usageError.helpHint { text += hint + "\n" }
        }
        return text
    }
}
