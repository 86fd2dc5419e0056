import CLIKit
import Foundation
import PrivateCA
import X509

/// `symbolon ca crl`: publish a signed CRL.
struct CACRLCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "crl", abstract: "Write a signed CRL (intermediate by default, or the root's).",
        discussion: """
            The intermediate's CRL lists every revoked certificate and is valid for 24h: publish it at least daily
            (cron). The root's CRL (--issuer root) covers the intermediate, is valid for 30d, and needs the root
            key: its passphrase, and --root-key FILE when the root key is kept offline. CRL numbers only grow.
            A copy is also kept in the CA directory (intermediate.crl.pem / root.crl.pem).
            """)
    static let arguments: [ArgumentSpec] = [
        ArgumentSpecs.directory,
        .option(long: "out", valueName: "FILE", help: "Where to write the CRL (PEM).", isRequired: true),
        .option(long: "issuer", valueName: "CA", help: "intermediate or root.", defaultValue: "intermediate"),
        .option(
            long: "root-key", valueName: "FILE", help: "The exported root key, when it is not in the CA directory."),
        ArgumentSpecs.passphraseFile,
    ]

    let directory: String
    let out: String
    let issuer: CertificateAuthority.CRLIssuer
    let rootKeyFile: String?
    let passphraseFile: String?

    init(parsed: ParsedArguments) throws {
        directory = try parsed.requiredString("dir")
        out = try parsed.requiredString("out")
        issuer = CertificateAuthority.CRLIssuer(
            rawValue: try parsed.choice("issuer", among: ["intermediate", "root"])!)!
        rootKeyFile = parsed.string("root-key")
        passphraseFile = parsed.string("passphrase-file")
    }

    func validate() throws {
        if issuer == .intermediate && rootKeyFile != nil {
            throw UsageError("--root-key is only used with --issuer root", code: .invalidCombination)
        }
    }

    func run() throws -> ExitCode {
        try OutputFile.checkWritable(out, notOverwriting: CADirectory(path: directory))
        let authority = try CertificateAuthority.open(directory: CADirectory(path: directory))
        let crl: CertificateRevocationList
        switch issuer {
        case .intermediate:
            crl = try authority.publishCRL()
        case .root:
            let passphrase = try Passphrase.read(file: passphraseFile, purpose: "root key")
            crl = try authority.publishRootCRL(
                rootKey: authority.loadRootKey(passphrase: passphrase, file: rootKeyFile))
        }
        try SecureFile.write(crl.pemEncoded, to: out)
        Console.out(
            "wrote \(issuer.rawValue) CRL #\(crl.number ?? 0) with \(crl.entries.count) revoked certificate(s) to \(out); next update \(crl.nextUpdate.map(CommonOptions.format) ?? "-")"
        )
        return .success
    }
}
