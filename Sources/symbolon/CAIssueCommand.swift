import CLIKit
import Foundation
import PrivateCA
import X509

/// `symbolon ca issue`: sign a certificate under a profile.
struct CAIssueCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "issue", abstract: "Issue a certificate under a profile, from a CSR or with a new key.",
        discussion: """
            Profiles: service (SPIFFE ID, 24h), server (DNS/IP, 30d), client (CN, 24h),
            user (e-mail + name, 90d), device (device serial, 1y), and any in <dir>/profiles.json;
            `symbolon ca profiles` lists them. --out-cert receives the leaf followed by the
            intermediate. Without --csr a key is generated and written to --out-key (mode 0600).

            Examples:
              symbolon ca issue --profile service --spiffe-id spiffe://acme.internal/api \\
                  --out-cert api.pem --out-key api-key.pem
              symbolon ca issue --profile user --cn "Alice Smith" --email alice@acme.com \\
                  --out-cert alice.pem --out-key alice-key.pem
              symbolon ca issue --profile server --csr web.csr --out-cert web.pem
            """)
    static let arguments: [ArgumentSpec] = [
        ArgumentSpecs.directory,
        .option(long: "profile", valueName: "PROFILE", help: "Issuance profile.", isRequired: true),
        .option(long: "spiffe-id", valueName: "ID", help: "SPIFFE ID (URI SAN) in the CA's trust domain."),
        .option(long: "dns", valueName: "NAME", help: "DNS name (SAN).", isRepeating: true),
        .option(long: "ip", valueName: "ADDRESS", help: "IP address (SAN).", isRepeating: true),
        .option(long: "email", valueName: "ADDRESS", help: "E-mail address (SAN)."),
        .option(long: "cn", valueName: "NAME", help: "Subject common name."),
        .option(long: "device-serial", valueName: "SERIAL", help: "Device serial (subject serialNumber)."),
        .option(
            long: "csr", valueName: "FILE",
            help: "Certify the key in this PKCS#10 CSR (its names are used when no name flag is given)."),
        .option(long: "key-type", valueName: "TYPE", help: "Type of the generated key.", defaultValue: "ec-p256"),
        .option(long: "lifetime", valueName: "DURATION", help: "Lifetime (e.g. 24h, 90d); default: the profile's."),
        .option(
            long: "out-cert", valueName: "FILE", help: "Where to write the certificate chain (PEM).", isRequired: true),
        .option(long: "out-key", valueName: "FILE", help: "Where to write the generated key (PEM, mode 0600)."),
    ]

    let directory: String
    let profile: String
    let spiffeID: String?
    let dnsNames: [String]
    let ipAddresses: [String]
    let email: String?
    let commonName: String?
    let deviceSerial: String?
    let csrFile: String?
    let keyType: String
    let lifetime: TimeInterval?
    let outCert: String
    let outKey: String?

    init(parsed: ParsedArguments) throws {
        directory = try parsed.requiredString("dir")
        profile = try parsed.requiredString("profile")
        spiffeID = parsed.string("spiffe-id")
        dnsNames = parsed.strings("dns")
        ipAddresses = parsed.strings("ip")
        email = parsed.string("email")
        commonName = parsed.string("cn")
        deviceSerial = parsed.string("device-serial")
        csrFile = parsed.string("csr")
        keyType = try parsed.requiredString("key-type")
        lifetime = try parsed.duration("lifetime").map(CommonOptions.seconds)
        outCert = try parsed.requiredString("out-cert")
        outKey = parsed.string("out-key")
    }

    func validate() throws {
        if csrFile == nil && outKey == nil {
            throw UsageError("without --csr a key is generated: give --out-key FILE for it", code: .invalidCombination)
        }
        if csrFile != nil && outKey != nil {
            throw UsageError(
                "--out-key makes no sense with --csr: the key stays with whoever made the CSR",
                code: .invalidCombination)
        }
        if let outKey, OutputFile.canonical(outKey) == OutputFile.canonical(outCert) {
            throw UsageError(
                "--out-key and --out-cert name the same file; give two different files", code: .invalidCombination)
        }
    }

    func run() throws -> ExitCode {
        let keySource: IssuanceRequest.KeySource
        if let csrFile {
            do {
                keySource = .csr(try CertificateSigningRequest(pemEncoded: SecureFile.readText(csrFile)))
            } catch let error as X509Error {
                throw error.about(file: csrFile)
            }
        } else {
            keySource = .generate(try KeyAlgorithm(name: keyType))
        }
        for path in [outCert] + (outKey.map { [$0] } ?? []) {
            try OutputFile.checkWritable(path, notOverwriting: CADirectory(path: directory))
        }
        let authority = try CertificateAuthority.open(directory: CADirectory(path: directory))
        let request = IssuanceRequest(
            profile: profile, keySource: keySource, commonName: commonName, spiffeID: spiffeID, dnsNames: dnsNames,
            ipAddresses: ipAddresses, email: email, deviceSerial: deviceSerial, lifetime: lifetime)
        // The files are written in full before the certificate is recorded and appear only once it is: a failure
        // anywhere leaves neither a recorded certificate without its files nor files for an unrecorded one.
        var staged: [StagedFile] = []
        let issued: IssuedCertificate
        do {
            issued = try authority.issue(request) { batch in
                for stagedFile in staged { stagedFile.discard() }  // a retry with fresh serials re-stages
                staged = []
                if let outKey, let key = batch[0].privateKey {
                    staged.append(try SecureFile.stage(Data(key.pemEncoded().utf8), to: outKey, permissions: 0o600))
                }
                staged.append(try SecureFile.stage(Data(batch[0].chainPEM.utf8), to: outCert))
            }
        } catch {
            for stagedFile in staged { stagedFile.discard() }
            throw error
        }
        for stagedFile in staged { try stagedFile.commit() }
        for warning in issued.warnings { Console.warn(warning) }
        let certificate = issued.certificate
        let names =
            [certificate.subject.commonName].compactMap { $0 } + certificate.subjectAlternativeNames.map(\.description)
        let identity =
            certificate.spiffeID?.description
            ?? (names.isEmpty ? certificate.subject.description : names.joined(separator: ", "))
        Console.out(
            "issued \(issued.record.profile) certificate \(issued.record.serial) for \(identity), valid until \(CommonOptions.format(issued.certificate.notAfter))"
        )
        Console.out("  chain: \(outCert)" + (outKey.map { "\n  key:   \($0)" } ?? ""))
        return .success
    }
}
