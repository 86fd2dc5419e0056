/// The declaration of one command-line argument: an option with a value, a flag, or a positional argument.
///
/// A command's `arguments` table of these drives both parsing and the generated `--help`, so the two cannot
/// disagree. Build them with `option(...)`, `flag(...)` and `positional(...)`.
public struct ArgumentSpec: Sendable {
    enum Kind: Sendable {
        case option, flag, positional
    }

    let kind: Kind
    /// The long name without dashes for options and flags; the name of a positional argument.
    let name: String
    let short: Character?
    let valueName: String
    let help: String
    let defaultValue: String?
    let isRequired: Bool
    let isRepeating: Bool

    /// An option that takes a value: `--dir D`, `--dir=D` or, with a short name, `-d D`.
    ///
    /// - Parameters:
    ///   - long: The name after `--`, e.g. `"out-cert"`.
    ///   - short: An optional single-character name used after `-`; `h` is reserved for help.
    ///   - valueName: The placeholder in help, e.g. `"FILE"` in `--out-cert <FILE>`; defaults to the
    ///     upper-cased long name.
    ///   - help: One sentence for the OPTIONS list.
    ///   - defaultValue: The value used when the option is not given; shown as `(default: …)`.
    ///   - isRequired: Whether parsing fails when the option is not given. Cannot be combined with a default.
    ///   - isRepeating: Whether the option may be given several times; all values are kept in order.
    public static func option(
        long: String,
        short: Character? = nil,
        valueName: String? = nil,
        help: String,
        defaultValue: String? = nil,
        isRequired: Bool = false,
        isRepeating: Bool = false
    ) -> ArgumentSpec {
        ArgumentSpec(
            kind: .option, name: long, short: short, valueName: valueName ?? long.uppercased(), help: help,
            defaultValue: defaultValue, isRequired: isRequired, isRepeating: isRepeating)
    }

    /// A flag that takes no value: present or absent, e.g. `--revoked`. Giving it twice is the same as once.
    public static func flag(long: String, short: Character? = nil, help: String) -> ArgumentSpec {
        ArgumentSpec(
            kind: .flag, name: long, short: short, valueName: "", help: help, defaultValue: nil,
            isRequired: false, isRepeating: false)
    }

    /// A positional argument, filled from the words that are not options, in declaration order.
    ///
    /// Only the last positional may repeat (it takes all remaining words), and required positionals must come
    /// before optional ones.
    public static func positional(
        name: String, help: String, isOptional: Bool = false, isRepeating: Bool = false
    ) -> ArgumentSpec {
        ArgumentSpec(
            kind: .positional, name: name, short: nil, valueName: name, help: help, defaultValue: nil,
            isRequired: !isOptional, isRepeating: isRepeating)
    }

    /// `--dir` for options and flags, `<FILE>` for positionals.
    var spelling: String {
        kind == .positional ? "<\(name)>" : "--\(name)"
    }

    /// `--dir <DIR>`, `--revoked` or `<FILE>`: how the argument is written in messages and usage.
    var synopsis: String {
        kind == .option ? "\(spelling) <\(valueName)>" : spelling
    }

    /// `-o, --out-cert <FILE>`: the label in the OPTIONS list.
    var helpLabel: String {
        guard let short, kind != .positional else { return synopsis }
        return "-\(short), \(synopsis)"
    }
}
