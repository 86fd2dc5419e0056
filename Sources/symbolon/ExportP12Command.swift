import CLIKit
import Foundation
import X509

/// `symbolon export p12`: a PKCS#12 bundle for browsers and OS certificate stores.
struct ExportP12Command: Command {
    static let configuration = CommandConfiguration(
        commandName: "p12", abstract: "Bundle a certificate, its key and chain as PKCS#12 for browsers.",
        discussion: """
            The bundle is encrypted with AES-256 (PBKDF2-SHA256) and MACed with HMAC-SHA256, which Firefox,
            Chromium (NSS), Windows and macOS import. The passphrase comes from --passphrase-file or
            SYMBOLON_PASSPHRASE.

            Example:
              symbolon export p12 --cert alice.pem --key alice-key.pem --name "Alice Smith" --out alice.p12
            """)
    static let arguments: [ArgumentSpec] = [
        .option(
            long: "cert", valueName: "FILE", help: "Certificate chain (leaf first), as `ca issue` writes it.",
            isRequired: true),
        .option(long: "key", valueName: "FILE", help: "The certificate's private key (PEM).", isRequired: true),
        .option(
            long: "chain", valueName: "FILE", help: "More CA certificates to include (e.g. root.pem).",
            isRepeating: true),
        .option(long: "name", valueName: "NAME", help: "Friendly name shown by the browser."),
        .option(long: "out", valueName: "FILE", help: "Where to write the bundle.", isRequired: true),
        ArgumentSpecs.passphraseFile,
    ]

    let certificateFile: String
    let keyFile: String
    let chainFiles: [String]
    let name: String?
    let out: String
    let passphraseFile: String?

    init(parsed: ParsedArguments) throws {
        certificateFile = try parsed.requiredString("cert")
        keyFile = try parsed.requiredString("key")
        chainFiles = parsed.strings("chain")
        name = parsed.string("name")
        out = try parsed.requiredString("out")
        passphraseFile = parsed.string("passphrase-file")
    }

    func run() throws -> ExitCode {
        let passphrase = try Passphrase.read(file: passphraseFile, purpose: "PKCS#12")
        try OutputFile.checkWritable(out)
        let certificates = try Certificate.load(file: certificateFile)
        var chain = Array(certificates.dropFirst())
        for file in chainFiles { chain += try Certificate.load(file: file) }
        let key: PrivateKey
        do {
            key = try PrivateKey(pemEncoded: SecureFile.readText(keyFile))
        } catch let error as X509Error {
            throw error.about(file: keyFile)
        }
        guard key.matches(certificates[0].publicKey) else {
            throw X509Error(
                .invalidValue, "this key does not belong to the certificate in \(certificateFile)", file: keyFile)
        }
        let friendlyName = name ?? certificates[0].subject.commonName ?? certificates[0].spiffeID?.description
        let der = try PKCS12Bundle.make(
            certificate: certificates[0], key: key, chain: chain, friendlyName: friendlyName, passphrase: passphrase)
        try SecureFile.write(Data(der), to: out, permissions: 0o600)
        Console.out("wrote \(out): \(certificates[0].subject) with \(chain.count) CA certificate(s)")
        return .success
    }
}
