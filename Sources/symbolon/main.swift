import CLIKit

// The only place that exits: CommandRunner maps every outcome to an exit code.
CommandRunner.main(SymbolonCommand.self)
