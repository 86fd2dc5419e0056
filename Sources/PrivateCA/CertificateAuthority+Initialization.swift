import Foundation
import X509

extension CertificateAuthority {
    /// Lifetimes of the CA certificates.
    public static let rootLifetime: TimeInterval = 10 * 365 * 86_400
    public static let intermediateLifetime: TimeInterval = 365 * 86_400
    /// Shortest root passphrase accepted.
    public static let minimumPassphraseLength = 8

    /// Creates a new CA in `directory`: a root (10 y, key encrypted with `rootPassphrase`) and an intermediate
    /// (1 y, path length 0) name-constrained to `spiffe://<trust domain>` and the configured DNS names.
    ///
    /// Refuses when a CA already exists there. Files are assembled in a staging directory and moved in at the end,
    /// `ca.json` last, so a failure leaves no half-made CA behind.
    public static func initialize(
        directory: CADirectory, configuration: CAConfiguration, rootPassphrase: String,
        keyAlgorithm: KeyAlgorithm = .ecdsaP256,
        now: Date = Date(), actor: String = CertificateAuthority.currentUser()
    ) throws -> CertificateAuthority {
        if directory.holdsCA || FileManager.default.fileExists(atPath: directory.rootKey) {
            throw CAError(
                .alreadyInitialized,
                "a CA already exists in \(directory.path); refusing to overwrite it (choose another --dir, or remove it yourself if you really mean to)"
            )
        }
        try validate(configuration)
        guard rootPassphrase.count >= minimumPassphraseLength else {
            throw CAError(
                .badConfiguration, "the root passphrase must be at least \(minimumPassphraseLength) characters")
        }

        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(
                atPath: directory.path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CAError(
                .badConfiguration, "cannot create the directory \(directory.path): \(error.localizedDescription)")
        }
        let staging = CADirectory(path: directory.path + "/.init-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fileManager.createDirectory(
                atPath: staging.path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CAError(.badConfiguration, "cannot write in \(directory.path): \(error.localizedDescription)")
        }
        defer { try? fileManager.removeItem(atPath: staging.path) }

        let rootKey = try PrivateKey.generate(keyAlgorithm)
        var rootBuilder = CertificateBuilder(
            subject: DistinguishedName([("O", configuration.name), ("CN", "\(configuration.name) Root CA")]),
            publicKey: rootKey.publicKey, notBefore: now.addingTimeInterval(-backdating),
            notAfter: now.addingTimeInterval(rootLifetime))
        rootBuilder.basicConstraints = BasicConstraints(isCA: true, pathLength: 1)
        rootBuilder.keyUsage = [.keyCertSign, .cRLSign]
        let root = try rootBuilder.sign(issuer: nil, issuerKey: rootKey)

        let intermediateKey = try PrivateKey.generate(keyAlgorithm)
        var intermediateBuilder = CertificateBuilder(
            subject: DistinguishedName([("O", configuration.name), ("CN", "\(configuration.name) Intermediate CA")]),
            publicKey: intermediateKey.publicKey, notBefore: now.addingTimeInterval(-backdating),
            notAfter: now.addingTimeInterval(intermediateLifetime))
        intermediateBuilder.basicConstraints = BasicConstraints(isCA: true, pathLength: 0)
        intermediateBuilder.keyUsage = [.keyCertSign, .cRLSign, .digitalSignature]
        intermediateBuilder.nameConstraints = NameConstraints(
            permitted: [.uri(configuration.trustDomain)] + configuration.dnsConstraints.map { .dns($0) })
        let intermediate = try intermediateBuilder.sign(issuer: root, issuerKey: rootKey)

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try SecureFile.write(root.pemEncoded, to: staging.rootCertificate)
        try SecureFile.write(rootKey.encryptedPEM(passphrase: rootPassphrase), to: staging.rootKey, permissions: 0o600)
        try SecureFile.write(intermediate.pemEncoded, to: staging.intermediateCertificate)
        try SecureFile.write(intermediateKey.pemEncoded(), to: staging.intermediateKey, permissions: 0o600)
        try SecureFile.write(encoder.encode(configuration), to: staging.configuration)
        do {
            let store = try SQLiteCertificateStore(path: staging.database, createIfMissing: true)
            try store.append(
                AuditEvent(
                    time: now, action: "ca.init", actor: actor,
                    details: [
                        "name": configuration.name, "trustDomain": configuration.trustDomain,
                        "dnsConstraints": configuration.dnsConstraints.joined(separator: ","),
                        "root": root.fingerprintSHA256.hexString,
                        "intermediate": intermediate.fingerprintSHA256.hexString,
                    ]))
        }
        // Move into place; ca.json last, since its presence is what marks a complete CA.
        for (from, to) in [
            (staging.database, directory.database), (staging.rootKey, directory.rootKey),
            (staging.intermediateKey, directory.intermediateKey), (staging.rootCertificate, directory.rootCertificate),
            (staging.intermediateCertificate, directory.intermediateCertificate),
            (staging.configuration, directory.configuration),
        ] {
            guard rename(from, to) == 0 else {
                let message = String(cString: strerror(errno))
                for path in [
                    directory.database, directory.rootKey, directory.intermediateKey, directory.rootCertificate,
                    directory.intermediateCertificate,
                ]
                where !fileManager.fileExists(atPath: directory.configuration) {
                    try? fileManager.removeItem(atPath: path)
                }
                throw CAError(.badConfiguration, "cannot move \(to) into place: \(message)")
            }
        }
        return try open(directory: directory, actor: actor)
    }

    static func validate(_ configuration: CAConfiguration) throws {
        let name = configuration.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 64,
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw CAError(.badConfiguration, "the CA name must be 1 to 64 printable characters") }
        do {
            try SPIFFEID.validateTrustDomain(configuration.trustDomain)
            for name in configuration.dnsConstraints {
                guard !name.hasPrefix("*") else {
                    throw CAError(
                        .badConfiguration, "DNS constraint \"\(name)\": give the domain (example.com), not a wildcard")
                }
                try SubjectAlternativeName.dns(name).validate()
            }
            if let url = configuration.crlURL { try CertificateBuilder.validateURL(url) }
            if let url = configuration.ocspURL { try CertificateBuilder.validateURL(url) }
        } catch let error as X509Error {
            throw CAError(.badConfiguration, error.reason)
        }
    }
}
