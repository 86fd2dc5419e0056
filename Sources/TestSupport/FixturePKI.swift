import Foundation
import X509

/// An in-memory PKI for tests, built directly with the X509 layer (no CA store): a root, an intermediate
/// name-constrained to a trust domain, and helpers to issue leaves — including ones the CA would refuse, to prove
/// relying parties refuse them too.
public struct FixturePKI: Sendable {
    public let trustDomain: String
    public let rootKey: PrivateKey
    public let root: Certificate
    public let intermediateKey: PrivateKey
    public let intermediate: Certificate
    public let now: Date

    public init(trustDomain: String = "acme.internal", dnsConstraints: [String] = [], now: Date = Date()) throws {
        self.trustDomain = trustDomain
        self.now = now
        rootKey = try PrivateKey.generate()
        var rootBuilder = CertificateBuilder(
            subject: DistinguishedName([("O", "Fixture"), ("CN", "Fixture Root")]), publicKey: rootKey.publicKey,
            notBefore: now.addingTimeInterval(-3600), notAfter: now.addingTimeInterval(10 * 365 * 86_400))
        rootBuilder.basicConstraints = BasicConstraints(isCA: true, pathLength: 1)
        rootBuilder.keyUsage = [.keyCertSign, .cRLSign]
        root = try rootBuilder.sign(issuer: nil, issuerKey: rootKey)
        intermediateKey = try PrivateKey.generate()
        var builder = CertificateBuilder(
            subject: DistinguishedName([("O", "Fixture"), ("CN", "Fixture Intermediate")]),
            publicKey: intermediateKey.publicKey, notBefore: now.addingTimeInterval(-3600),
            notAfter: now.addingTimeInterval(365 * 86_400))
        builder.basicConstraints = BasicConstraints(isCA: true, pathLength: 0)
        builder.keyUsage = [.keyCertSign, .cRLSign]
        builder.nameConstraints = NameConstraints(permitted: [.uri(trustDomain)] + dnsConstraints.map { .dns($0) })
        intermediate = try builder.sign(issuer: root, issuerKey: rootKey)
    }

    /// A leaf signed by the intermediate with exactly these contents (no profile checks).
    public func leaf(
        names: [SubjectAlternativeName] = [], commonName: String? = "leaf",
        usages: [ExtendedKeyUsage] = [.clientAuth, .serverAuth],
        notBefore: Date? = nil, notAfter: Date? = nil, key: PrivateKey? = nil
    ) throws -> (Certificate, PrivateKey) {
        let key = try key ?? PrivateKey.generate()
        var builder = CertificateBuilder(
            subject: DistinguishedName(commonName.map { [("CN", $0)] } ?? []), publicKey: key.publicKey,
            notBefore: notBefore ?? now.addingTimeInterval(-60), notAfter: notAfter ?? now.addingTimeInterval(86_400))
        builder.basicConstraints = BasicConstraints(isCA: false)
        builder.keyUsage = [.digitalSignature]
        builder.extendedKeyUsage = usages
        builder.subjectAlternativeNames = names
        return (try builder.sign(issuer: intermediate, issuerKey: intermediateKey), key)
    }

    /// A verifier trusting this PKI's root.
    public var verifier: ChainVerifier { ChainVerifier(trustRoots: [root]) }
}
