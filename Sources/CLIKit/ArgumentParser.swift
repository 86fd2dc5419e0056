/// Matches the words after a command's name against its `arguments` table and produces `ParsedArguments`.
///
/// Accepted forms: `--name value`, `--name=value`, `-n value`, flags `--flag` and `-f`, and `--` after which
/// every word is positional. An option takes the next word as its value even when it starts with `-`
/// (`--cn -weird-`), unless that word is `--` or spells one of this command's own options; `--cn=--dir` passes
/// such a value.
struct ArgumentParser {
    let commandPath: [String]
    let declarations: [ArgumentSpec]
    private let byLongName: [String: ArgumentSpec]
    private let byShortName: [Character: ArgumentSpec]
    private let positionalDeclarations: [ArgumentSpec]

    /// Checks the table and prepares lookups; throws `DeclarationError` for an inconsistent table.
    init(declarations: [ArgumentSpec], commandPath: [String]) throws {
        try Self.check(declarations, commandPath: commandPath)
        self.commandPath = commandPath
        self.declarations = declarations
        var byLongName: [String: ArgumentSpec] = [:]
        var byShortName: [Character: ArgumentSpec] = [:]
        for declaration in declarations where declaration.kind != .positional {
            byLongName[declaration.name] = declaration
            if let short = declaration.short { byShortName[short] = declaration }
        }
        self.byLongName = byLongName
        self.byShortName = byShortName
        positionalDeclarations = declarations.filter { $0.kind == .positional }
    }

    /// Parses `tokens`; throws `UsageError` for the first word that does not fit, then for anything missing.
    func parse(_ tokens: [String]) throws -> ParsedArguments {
        var optionValues: [String: [String]] = [:]
        var setFlags: Set<String> = []
        var looseWords: [String] = []
        var index = 0
        var onlyPositionals = false
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            if onlyPositionals || token == "-" || !token.hasPrefix("-") {
                looseWords.append(token)
                continue
            }
            if token == "--" {
                onlyPositionals = true
                continue
            }
            let (declaration, inlineValue) = try match(token)
            if declaration.kind == .flag {
                if let inlineValue {
                    throw usage(
                        "\(declaration.spelling) is a flag and takes no value; remove "
                            + UsageError.quoted("=" + inlineValue),
                        .unexpectedValue)
                }
                setFlags.insert(declaration.name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else if index < tokens.count, !spellsOption(tokens[index]) {
                value = tokens[index]
                index += 1
            } else {
                var reason = "missing value for \(declaration.synopsis)"
                if index < tokens.count {
                    reason +=
                        "; to pass \(UsageError.quoted(tokens[index])) as its value, join them with '=': "
                        + "\(declaration.spelling)=<\(declaration.valueName)>"
                }
                throw usage(reason, .missingValue)
            }
            if !declaration.isRepeating, optionValues[declaration.name] != nil {
                throw usage("\(declaration.spelling) was given more than once; give it once", .duplicateOption)
            }
            optionValues[declaration.name, default: []].append(value)
        }
        let positionalValues = try assignPositionals(looseWords)
        let missing = declarations.filter { $0.kind == .option && $0.isRequired && optionValues[$0.name] == nil }
        if !missing.isEmpty {
            let list = missing.map(\.synopsis).joined(separator: ", ")
            throw usage("missing required option\(missing.count > 1 ? "s" : "") \(list)", .missingArgument)
        }
        return ParsedArguments(
            commandPath: commandPath, declarations: declarations, optionValues: optionValues,
            setFlags: setFlags, positionalValues: positionalValues)
    }

    /// Finds the declaration a word starting with `-` names, and the value after `=` if any.
    private func match(_ token: String) throws -> (ArgumentSpec, String?) {
        if token.hasPrefix("--") {
            let body = token.dropFirst(2)
            let name = body.prefix { $0 != "=" }
            let inlineValue = name.endIndex < body.endIndex ? String(body[body.index(after: name.endIndex)...]) : nil
            if let declaration = byLongName[String(name)] { return (declaration, inlineValue) }
            throw unknownOption(token, typedName: String(name))
        }
        let body = token.dropFirst()
        if let short = body.first, body.dropFirst().isEmpty, let declaration = byShortName[short] {
            return (declaration, nil)
        }
        // `-dir` is a common slip for `--dir`.
        throw unknownOption(token, typedName: String(body.prefix { $0 != "=" }))
    }

    /// Whether a word is `--` or names one of this command's options, so it cannot be taken as a value.
    private func spellsOption(_ word: String) -> Bool {
        if word == "--" { return true }
        if word.hasPrefix("--") { return byLongName[String(word.dropFirst(2).prefix { $0 != "=" })] != nil }
        guard word.hasPrefix("-"), let short = word.dropFirst().first, word.dropFirst(2).isEmpty else { return false }
        return byShortName[short] != nil
    }

    private func unknownOption(_ token: String, typedName: String) -> UsageError {
        let shown = UsageError.quoted(token.prefix { $0 != "=" })
        var reason = "unknown option \(shown)"
        if let suggestion = Suggestion.closest(to: typedName, among: Array(byLongName.keys).sorted()) {
            reason += ". Did you mean '--\(suggestion)'?"
        } else if byLongName.isEmpty {
            reason += "; '\(commandPath.joined(separator: " "))' takes no options"
        }
        return usage(reason, .unknownOption)
    }

    private func assignPositionals(_ words: [String]) throws -> [String: [String]] {
        var values: [String: [String]] = [:]
        var next = 0
        for declaration in positionalDeclarations {
            let taken = declaration.isRepeating ? words[next...] : words[next..<min(next + 1, words.count)]
            if taken.isEmpty {
                if declaration.isRequired { throw usage("missing argument \(declaration.spelling)", .missingArgument) }
                continue
            }
            values[declaration.name] = Array(taken)
            next += taken.count
        }
        if next < words.count {
            var reason = "unexpected argument \(UsageError.quoted(words[next]))"
            if positionalDeclarations.isEmpty { reason += "; this command takes no positional arguments" }
            throw usage(reason, .unexpectedArgument)
        }
        return values
    }

    private func usage(_ reason: String, _ code: UsageError.Code) -> UsageError {
        UsageError(reason, code: code, commandPath: commandPath)
    }

    /// Rejects tables that would parse ambiguously or that the help could not describe.
    private static func check(_ declarations: [ArgumentSpec], commandPath: [String]) throws {
        func fail(_ reason: String) -> DeclarationError { DeclarationError(reason: reason, commandPath: commandPath) }
        var longNames: Set<String> = ["help"]
        var shortNames: Set<Character> = ["h"]
        var positionalNames: Set<String> = []
        var sawOptionalPositional = false
        var sawRepeatingPositional = false
        for declaration in declarations {
            let name = declaration.name
            guard !name.isEmpty, !name.contains(where: { $0 == "=" || $0.isWhitespace }) else {
                throw fail("\(UsageError.quoted(name)) is not a usable name; use letters, digits and '-'")
            }
            switch declaration.kind {
            case .option, .flag:
                guard !name.hasPrefix("-") else { throw fail("write the long name \(name) without leading dashes") }
                guard longNames.insert(name).inserted else {
                    throw fail("--\(name) is declared twice (or is the reserved --help)")
                }
                if let short = declaration.short {
                    guard short != "-", short != "=", !short.isWhitespace, shortNames.insert(short).inserted else {
                        throw fail("-\(short) is declared twice, reserved (-h) or not a usable short name")
                    }
                }
                if declaration.isRequired && declaration.defaultValue != nil {
                    throw fail("--\(name) is required and has a default; drop one of them")
                }
            case .positional:
                guard positionalNames.insert(name).inserted else { throw fail("<\(name)> is declared twice") }
                guard !sawRepeatingPositional else {
                    throw fail("<\(name)> follows a repeating positional; only the last positional may repeat")
                }
                guard !(declaration.isRequired && sawOptionalPositional) else {
                    throw fail("required <\(name)> follows an optional positional; put required ones first")
                }
                sawOptionalPositional = sawOptionalPositional || !declaration.isRequired
                sawRepeatingPositional = declaration.isRepeating
            }
        }
    }
}
