import CLIKit
import Foundation
import PrivateCA

/// `symbolon ca root-key …`: keep the root offline.
struct CARootKeyCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "root-key", abstract: "Export the encrypted root key, or remove it to keep the root offline.",
        subcommands: [CARootKeyExportCommand.self, CARootKeyRemoveCommand.self])
    init(parsed: ParsedArguments) {}
}

/// `symbolon ca root-key export`.
struct CARootKeyExportCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Copy the encrypted root key to FILE (checks the passphrase opens it; never overwrites).")
    static let arguments: [ArgumentSpec] = [
        ArgumentSpecs.directory,
        .option(
            long: "out", valueName: "FILE", help: "Where to write the copy (e.g. on removable media).", isRequired: true
        ),
        ArgumentSpecs.passphraseFile,
    ]
    let directory: String
    let out: String
    let passphraseFile: String?

    init(parsed: ParsedArguments) throws {
        directory = try parsed.requiredString("dir")
        out = try parsed.requiredString("out")
        passphraseFile = parsed.string("passphrase-file")
    }

    func run() throws -> ExitCode {
        let authority = try CertificateAuthority.open(directory: CADirectory(path: directory))
        try authority.exportRootKey(to: out, passphrase: Passphrase.read(file: passphraseFile, purpose: "root key"))
        Console.out("exported the encrypted root key to \(out)")
        Console.out(
            "remove it from the CA directory with: symbolon ca root-key remove --dir \(directory) --exported-copy \(out)"
        )
        return .success
    }
}

/// `symbolon ca root-key remove`.
struct CARootKeyRemoveCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Delete the root key from the CA directory, after checking an exported copy opens and matches.")
    static let arguments: [ArgumentSpec] = [
        ArgumentSpecs.directory,
        .option(long: "exported-copy", valueName: "FILE", help: "The exported key to check first.", isRequired: true),
        ArgumentSpecs.passphraseFile,
    ]
    let directory: String
    let exportedCopy: String
    let passphraseFile: String?

    init(parsed: ParsedArguments) throws {
        directory = try parsed.requiredString("dir")
        exportedCopy = try parsed.requiredString("exported-copy")
        passphraseFile = parsed.string("passphrase-file")
    }

    func run() throws -> ExitCode {
        let authority = try CertificateAuthority.open(directory: CADirectory(path: directory))
        try authority.removeRootKey(
            exportedCopy: exportedCopy, passphrase: Passphrase.read(file: passphraseFile, purpose: "root key"))
        Console.out("removed the root key from \(directory); the root is offline")
        Console.out("root CRLs now need: symbolon ca crl --issuer root --root-key \(exportedCopy) …")
        return .success
    }
}
