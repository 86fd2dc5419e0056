/// Renders a command's `--help` text from its configuration and `arguments` table, in the layout of
/// swift-argument-parser: OVERVIEW, USAGE, ARGUMENTS, OPTIONS, SUBCOMMANDS, wrapped to 100 columns.
struct HelpFormatter {
    /// The widest a help line gets; words longer than a line are left whole rather than broken.
    static let width = 100
    /// Help text starts at this column or further right, as in swift-argument-parser.
    private static let minimumHelpColumn = 26
    /// The label column never pushes help text further right than this; longer labels get their own line.
    private static let maxLabelWidth = 30

    /// The commands from the root to the one being described.
    let path: [any Command.Type]

    /// The help text, ending in a newline.
    func render() -> String {
        guard let command = path.last else { return "" }
        let configuration = command.configuration
        var blocks: [String] = []
        if !configuration.abstract.isEmpty {
            blocks.append(Self.wrap(words(configuration.abstract), firstPrefix: "OVERVIEW: ", indent: 2))
        }
        if !configuration.discussion.isEmpty {
            blocks.append(Self.wrapPreservingLines(configuration.discussion))
        }
        blocks.append(usage())

        let positionals = command.arguments.filter { $0.kind == .positional }
        let argumentRows = positionals.map { ($0.spelling, describe($0)) }
        let optionRows =
            command.arguments.filter { $0.kind != .positional }.map { ($0.helpLabel, describe($0)) }
            + [("-h, --help", "Show help information.")]
        var subcommandRows: [(String, String)] = configuration.subcommands.map { subcommand in
            let name = subcommand.configuration.commandName
            let isDefault = configuration.defaultSubcommand.map { $0 == subcommand } ?? false
            return (isDefault ? "\(name) (default)" : name, subcommand.configuration.abstract)
        }
        if path.count == 1, configuration.isGroup,
            !configuration.subcommands.contains(where: { $0.configuration.commandName == "help" })
        {
            subcommandRows.append(("help", "Show subcommand help information."))
        }
        let widest = (argumentRows + optionRows + subcommandRows).map(\.0.count).filter { $0 <= Self.maxLabelWidth }
        let column = max(Self.minimumHelpColumn, 2 + (widest.max() ?? Self.maxLabelWidth) + 2)

        if !argumentRows.isEmpty {
            blocks.append(section("ARGUMENTS", argumentRows, column: column))
        }
        blocks.append(section("OPTIONS", optionRows, column: column))
        if !subcommandRows.isEmpty {
            let names = path.map { $0.configuration.commandName }
            let helpCommand = ([names[0], "help"] + names.dropFirst() + ["<subcommand>"]).joined(separator: " ")
            blocks.append(
                section("SUBCOMMANDS", subcommandRows, column: column)
                    + "\n\n  See '\(helpCommand)' for detailed help.")
        }
        return blocks.joined(separator: "\n\n") + "\n"
    }

    /// `USAGE: symbolon ca issue --dir <DIR> [--dns <NAME> ...] [--revoked] [<CSR>]`
    private func usage() -> String {
        guard let command = path.last else { return "" }
        let name = path.map { $0.configuration.commandName }.joined(separator: " ")
        var units: [String] = []
        if command.configuration.isGroup {
            units.append("<subcommand>")
        } else {
            let declarations = command.arguments
            for declaration in declarations where declaration.kind != .positional {
                units.append(usageUnit(declaration))
            }
            for declaration in declarations where declaration.kind == .positional {
                units.append(usageUnit(declaration))
            }
        }
        let prefix = "USAGE: \(name)"
        return Self.wrap(units, firstPrefix: prefix + (units.isEmpty ? "" : " "), indent: min(prefix.count + 1, 40))
    }

    private func usageUnit(_ declaration: ArgumentSpec) -> String {
        let repeated = declaration.isRepeating ? " ..." : ""
        let core = declaration.synopsis + repeated
        return declaration.isRequired ? core : "[\(core)]"
    }

    private func describe(_ declaration: ArgumentSpec) -> String {
        var parts = [declaration.help]
        if let defaultValue = declaration.defaultValue { parts.append("(default: \(defaultValue))") }
        if declaration.isRepeating { parts.append("(repeatable)") }
        return parts.filter { !$0.isEmpty }.joined(separator: " ")
    }

    private func section(_ title: String, _ rows: [(String, String)], column: Int) -> String {
        ([title + ":"] + rows.map { row(label: $0.0, help: $0.1, column: column) }).joined(separator: "\n")
    }

    /// `  --dir <DIR>          The CA directory.`, with the help wrapped under its own column.
    private func row(label: String, help: String, column: Int) -> String {
        let lead = "  " + label
        let helpWords = words(help)
        if helpWords.isEmpty { return lead }
        if lead.count + 2 <= column {
            let padded = lead + String(repeating: " ", count: column - lead.count)
            return Self.wrap(helpWords, firstPrefix: padded, indent: column)
        }
        return lead + "\n" + Self.wrap(helpWords, firstPrefix: String(repeating: " ", count: column), indent: column)
    }

    private func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
    }

    /// Wraps each line of `text` on its own, keeping blank lines and each line's leading indentation.
    /// Reflows unindented lines into paragraphs (blank lines separate them) and keeps indented lines (examples)
    /// as written, so authors can break prose anywhere in source without ragged help output.
    private static func wrapPreservingLines(_ text: String) -> String {
        var output: [String] = []
        var paragraph: [String] = []
        func flush() {
            if !paragraph.isEmpty { output.append(wrap(paragraph, firstPrefix: "", indent: 0)) }
            paragraph = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(separator: " ").map(String.init)
            if words.isEmpty {
                flush()
                output.append("")
            } else if line.hasPrefix(" ") {
                flush()
                output.append(String(line))
            } else {
                paragraph += words
            }
        }
        flush()
        return output.joined(separator: "\n")
    }

    /// Lays `units` out after `firstPrefix`, one space apart, starting a new line indented by `indent`
    /// whenever the next unit would pass `width`.
    static func wrap(_ units: [String], firstPrefix: String, indent: Int, width: Int = width) -> String {
        var lines: [String] = []
        var line = firstPrefix
        var lineHasUnit = false
        for unit in units {
            if lineHasUnit && line.count + 1 + unit.count > width {
                lines.append(line)
                line = String(repeating: " ", count: indent) + unit
            } else {
                line += (lineHasUnit ? " " : "") + unit
            }
            lineHasUnit = true
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
