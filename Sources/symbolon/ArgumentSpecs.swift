import CLIKit

/// Option declarations several commands share, so their names and help read the same everywhere.
enum ArgumentSpecs {
    static let directory = ArgumentSpec.option(
        long: "dir", valueName: "DIR", help: "The CA directory.", defaultValue: CommonOptions.defaultDirectory)
    static let passphraseFile = ArgumentSpec.option(
        long: "passphrase-file", valueName: "FILE",
        help: "Read the passphrase from FILE (first line). Otherwise SYMBOLON_PASSPHRASE is used.")
    static let format = ArgumentSpec.option(
        long: "format", valueName: "FORMAT", help: "Output format: table or json.", defaultValue: "table")
}
