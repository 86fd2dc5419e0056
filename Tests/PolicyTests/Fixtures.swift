import Foundation
import TestSupport
import X509

/// Leaves from one shared fixture PKI, with exactly the names a test asks for.
enum Fixtures {
    static let pki = try! FixturePKI()

    /// A leaf with these SANs and subject attributes (`[("OU", "ops"), ("CN", "alice")]`); no subject by default.
    static func leaf(
        _ names: [SubjectAlternativeName] = [], subject: [(String, String)] = [], key: PrivateKey? = nil
    ) throws -> Certificate {
        let key = try key ?? PrivateKey.generate()
        var builder = CertificateBuilder(
            subject: DistinguishedName(subject), publicKey: key.publicKey, notBefore: pki.now.addingTimeInterval(-60),
            notAfter: pki.now.addingTimeInterval(3600))
        builder.basicConstraints = BasicConstraints(isCA: false)
        builder.keyUsage = [.digitalSignature]
        builder.extendedKeyUsage = [.clientAuth]
        builder.subjectAlternativeNames = names
        return try builder.sign(issuer: pki.intermediate, issuerKey: pki.intermediateKey)
    }

    /// A leaf whose only SAN is this SPIFFE ID (an X.509-SVID).
    static func svid(_ id: String) throws -> Certificate { try leaf([.uri(id)]) }
}
