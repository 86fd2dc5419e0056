import CLIKit
import Foundation
import PrivateCA
import X509

/// `symbolon ca init`: create a root and an online intermediate constrained to a trust domain.
struct CAInitCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a new CA: a root (10y) and an online intermediate (1y).",
        discussion: """
            The intermediate is name-constrained to URI spiffe://<trust domain> and to the DNS names given with
            --dns-constraint (and their subdomains). The root key is written encrypted (PBKDF2-SHA256, AES-256)
            with the passphrase from --passphrase-file or SYMBOLON_PASSPHRASE; export it and remove it from the
            directory with `symbolon ca root-key` to keep the root offline. Refuses to overwrite an existing CA.

            Example:
              SYMBOLON_PASSPHRASE=… symbolon ca init --dir ./ca --name "Acme" --trust-domain acme.internal
            """)
    static let arguments: [ArgumentSpec] = [
        ArgumentSpecs.directory,
        .option(long: "name", valueName: "NAME", help: "Organisation name for the CA certificates.", isRequired: true),
        .option(
            long: "trust-domain", valueName: "TD", help: "SPIFFE trust domain, e.g. acme.internal.", isRequired: true),
        .option(
            long: "dns-constraint", valueName: "NAME", help: "A DNS domain the intermediate may certify.",
            isRepeating: true),
        .option(long: "crl-url", valueName: "URL", help: "CRL distribution point written into issued certificates."),
        .option(long: "ocsp-url", valueName: "URL", help: "OCSP responder URL written into issued certificates."),
        .option(
            long: "key-type", valueName: "TYPE", help: "CA key type: ec-p256, ec-p384, ed25519, rsa2048…rsa4096.",
            defaultValue: "ec-p256"),
        ArgumentSpecs.passphraseFile,
    ]

    let directory: String
    let configuration: CAConfiguration
    let keyType: String
    let passphraseFile: String?

    init(parsed: ParsedArguments) throws {
        directory = try parsed.requiredString("dir")
        configuration = CAConfiguration(
            name: try parsed.requiredString("name"), trustDomain: try parsed.requiredString("trust-domain"),
            dnsConstraints: parsed.strings("dns-constraint"), crlURL: parsed.string("crl-url"),
            ocspURL: parsed.string("ocsp-url"))
        keyType = try parsed.requiredString("key-type")
        passphraseFile = parsed.string("passphrase-file")
    }

    func run() throws -> ExitCode {
        let algorithm = try KeyAlgorithm(name: keyType)
        let passphrase = try Passphrase.read(file: passphraseFile, purpose: "root key")
        let authority = try CertificateAuthority.initialize(
            directory: CADirectory(path: directory), configuration: configuration, rootPassphrase: passphrase,
            keyAlgorithm: algorithm)
        Console.out(
            "created CA \"\(configuration.name)\" for trust domain \(configuration.trustDomain) in \(directory)")
        Console.out(
            "  root:         \(authority.directory.rootCertificate) (expires \(CommonOptions.format(authority.root.notAfter)))"
        )
        Console.out(
            "  intermediate: \(authority.directory.intermediateCertificate) (expires \(CommonOptions.format(authority.intermediate.notAfter)))"
        )
        Console.out(
            "  root key:     \(authority.directory.rootKey) (encrypted; keep it offline with `symbolon ca root-key export`)"
        )
        return .success
    }
}
