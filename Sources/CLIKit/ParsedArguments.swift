/// The values found on the command line for one command, looked up by the names in its `arguments` table.
///
/// Options and flags are looked up by long name without dashes (`"dir"` for `--dir`), positionals by their
/// declared name. Asking for a name the command did not declare returns `nil`, `false` or `[]`. Typed readers
/// (`int`, `duration`, `choice`) throw a `UsageError` naming the option when the text does not fit.
public struct ParsedArguments: Sendable {
    /// The words naming the command, e.g. `["symbolon", "ca", "issue"]`.
    public let commandPath: [String]
    let declarations: [ArgumentSpec]
    let optionValues: [String: [String]]
    let setFlags: Set<String>
    let positionalValues: [String: [String]]

    /// The last value given for the option, or its default, or `nil`.
    public func string(_ long: String) -> String? {
        optionValues[long]?.last ?? declaration(long)?.defaultValue
    }

    /// The option's value or default; throws `UsageError` (`missing --dir <DIR>`) when there is neither.
    ///
    /// The parser already enforces `isRequired`; this is for options required only in some combinations.
    public func requiredString(_ long: String) throws -> String {
        if let value = string(long) { return value }
        let synopsis = declaration(long)?.synopsis ?? "--\(long)"
        throw UsageError("missing \(synopsis)", code: .missingArgument, commandPath: commandPath)
    }

    /// Every value given for a repeating option, in command-line order; the default alone when none was given.
    public func strings(_ long: String) -> [String] {
        if let values = optionValues[long] { return values }
        return declaration(long)?.defaultValue.map { [$0] } ?? []
    }

    /// Whether the flag was given.
    public func flag(_ long: String) -> Bool {
        setFlags.contains(long)
    }

    /// Whether the user gave this option or flag explicitly (a default does not count).
    public func isPresent(_ long: String) -> Bool {
        optionValues[long] != nil || setFlags.contains(long)
    }

    /// The value of a positional argument, or `nil` when an optional one was not given.
    public func positional(_ name: String) -> String? {
        positionalValues[name]?.first
    }

    /// All values of a repeating positional argument, in order.
    public func positionals(_ name: String) -> [String] {
        positionalValues[name] ?? []
    }

    /// The option's value as an integer; throws `UsageError` (`--max-depth expects an integer, got 'x'`).
    public func int(_ long: String) throws -> Int? {
        guard let text = string(long) else { return nil }
        guard let value = Int(text) else {
            throw invalid(long, "expects an integer, got \(UsageError.quoted(text))")
        }
        return value
    }

    /// The option's value as a positive duration written as whole numbers with units, largest first:
    /// `90s`, `30m`, `24h`, `90d`, `1h30m`, `1d12h`.
    ///
    /// Throws `UsageError` for anything else: no unit, unknown or repeated units, units out of order, signs,
    /// spaces, zero, or more seconds than `Int64` holds.
    public func duration(_ long: String) throws -> Duration? {
        guard let text = string(long) else { return nil }
        switch Self.parseDuration(text) {
        case .valid(let seconds):
            return .seconds(seconds)
        case .zero:
            throw invalid(long, "must be longer than zero, got \(UsageError.quoted(text))")
        case .overflow:
            throw invalid(long, "is too long to represent, got \(UsageError.quoted(text))")
        case .malformed:
            throw invalid(
                long, "expects a duration such as 90s, 30m, 24h, 90d or 1h30m; got \(UsageError.quoted(text))")
        }
    }

    /// The option's value if it is one of `choices`; throws `UsageError`
    /// (`--format expects one of table, json; got 'xml'`) otherwise.
    public func choice(_ long: String, among choices: [String]) throws -> String? {
        guard let text = string(long) else { return nil }
        guard choices.contains(text) else {
            var reason = "expects one of \(choices.joined(separator: ", ")); got \(UsageError.quoted(text))"
            if let suggestion = Suggestion.closest(to: text, among: choices) {
                reason += ". Did you mean '\(suggestion)'?"
            }
            throw invalid(long, reason)
        }
        return text
    }

    private func declaration(_ name: String) -> ArgumentSpec? {
        declarations.first { $0.kind != .positional && $0.name == name }
    }

    private func invalid(_ long: String, _ reason: String) -> UsageError {
        UsageError("--\(long) \(reason)", code: .invalidValue, commandPath: commandPath)
    }

    enum DurationParse: Equatable {
        case valid(seconds: Int64)
        case zero, overflow, malformed
    }

    /// Parses `<digits><unit>` segments with units d, h, m, s, each at most once and largest first.
    static func parseDuration(_ text: String) -> DurationParse {
        let units: [(unit: Character, seconds: Int64)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        var total: Int64 = 0
        var digits = ""
        var nextUnit = 0
        for character in text {
            if character.isASCII, character.isWholeNumber {
                digits.append(character)
                continue
            }
            guard !digits.isEmpty,
                let index = units[nextUnit...].firstIndex(where: { $0.unit == character })
            else { return .malformed }
            guard let count = Int64(digits) else { return .overflow }
            let (seconds, productOverflow) = count.multipliedReportingOverflow(by: units[index].seconds)
            let (sum, sumOverflow) = total.addingReportingOverflow(seconds)
            if productOverflow || sumOverflow { return .overflow }
            total = sum
            digits = ""
            nextUnit = index + 1
        }
        guard digits.isEmpty, nextUnit > 0 else { return .malformed }
        return total == 0 ? .zero : .valid(seconds: total)
    }
}
