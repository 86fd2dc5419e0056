/// A mistake on the command line: the user asked for something the command cannot parse or accept.
///
/// The runner prints `error: <reason>` followed by `Run '<command path> --help' for usage.` and exits with
/// `ExitCode.usage` (2). Commands throw it from `init(parsed:)` and `validate()` for bad values and bad
/// combinations; the reason should say what was wrong and what to do instead.
public struct UsageError: ExitCodeProviding, CustomStringConvertible, Sendable {
    /// What kind of mistake this was, for tests and callers that branch on it; more codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// A value was given but cannot be used (not an integer, not a duration, not one of the choices).
        public static let invalidValue = Code("invalidValue")
        /// Arguments were each valid but cannot be used together; thrown by `validate()` implementations.
        public static let invalidCombination = Code("invalidCombination")
        /// An option was given as the last word, or followed by another option, with no value.
        public static let missingValue = Code("missingValue")
        /// A required option or positional argument was not given.
        public static let missingArgument = Code("missingArgument")
        /// An option is not declared by the command.
        public static let unknownOption = Code("unknownOption")
        /// A word after a command group does not name one of its subcommands.
        public static let unknownSubcommand = Code("unknownSubcommand")
        /// A command group was given options but no subcommand.
        public static let missingSubcommand = Code("missingSubcommand")
        /// An option that takes one value was given more than once.
        public static let duplicateOption = Code("duplicateOption")
        /// A word was left over after every positional argument was filled.
        public static let unexpectedArgument = Code("unexpectedArgument")
        /// A flag was given a value with `--flag=value`.
        public static let unexpectedValue = Code("unexpectedValue")

        /// The code's name, as written in this file.
        public var description: String { name }
    }

    /// What kind of mistake this was.
    public let code: Code
    /// What was wrong and what to do, in one sentence without the `error:` prefix.
    public let reason: String
    /// The words naming the command the mistake was made in, e.g. `["symbolon", "ca", "issue"]`; empty when
    /// unknown, in which case the runner fills in the command it was running.
    public var commandPath: [String]

    /// Creates a usage error; leave `commandPath` empty when throwing from a command, the runner knows it.
    public init(_ reason: String, code: Code = .invalidValue, commandPath: [String] = []) {
        self.reason = reason
        self.code = code
        self.commandPath = commandPath
    }

    /// Always `ExitCode.usage`.
    public var exitCode: ExitCode { .usage }

    /// The reason, so that `"\(error)"` reads as a sentence.
    public var description: String { reason }

    /// The line pointing at the command's help, e.g. `Run 'symbolon ca issue --help' for usage.`, or `nil`
    /// when the command path is unknown.
    public var helpHint: String? {
        commandPath.isEmpty ? nil : "Run '\(commandPath.joined(separator: " ")) --help' for usage."
    }

    /// Quotes text the user typed for an error message: single quotes, at most 64 characters, and control
    /// and bidi-format characters escaped, so that hostile input cannot flood or rewrite the terminal.
    static func quoted(_ text: some StringProtocol) -> String {
        let limit = 64
        let isLong = text.prefix(limit + 1).count > limit
        var shown = ""
        for scalar in String(isLong ? text.prefix(limit - 1) : text[...]).unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator:
                shown += "\\u{" + String(scalar.value, radix: 16) + "}"
            default:
                shown.unicodeScalars.append(scalar)
            }
        }
        return "'" + shown + (isLong ? "…" : "") + "'"
    }
}
