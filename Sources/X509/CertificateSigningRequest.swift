import Foundation

/// A PKCS#10 certificate signing request as a value.
public struct CertificateSigningRequest: Sendable, Hashable {
    /// The request, DER.
    public let der: [UInt8]
    public let subject: DistinguishedName
    public let publicKey: PublicKey
    /// Names requested in the extensionRequest attribute.
    public let subjectAlternativeNames: [SubjectAlternativeName]
    /// Whether the self-signature verifies with the request's own public key (proof of possession).
    public let isSignatureValid: Bool

    /// Parses the first `CERTIFICATE REQUEST` (or `NEW CERTIFICATE REQUEST`) block of PEM text.
    public init(pemEncoded text: String) throws {
        let blocks = try PEMBlock.parseAll(text)
        guard
            let block = blocks.first(where: {
                $0.label == "CERTIFICATE REQUEST" || $0.label == "NEW CERTIFICATE REQUEST"
            })
        else { throw X509Error(.malformedInput, "no CERTIFICATE REQUEST block in the PEM input") }
        try self.init(der: block.der)
    }

    /// Parses a DER request.
    public init(der: [UInt8]) throws {
        self = try CertificateSigningRequest.parse(der: der)
    }

    init(der: [UInt8], subject: DistinguishedName, publicKey: PublicKey, names: [SubjectAlternativeName], valid: Bool) {
        self.der = der
        self.subject = subject
        self.publicKey = publicKey
        self.subjectAlternativeNames = names
        self.isSignatureValid = valid
    }

    /// Throws `.badSignature` unless the self-signature verifies.
    public func verifySignature() throws {
        guard isSignatureValid else {
            throw X509Error(
                .badSignature,
                "the CSR's signature does not verify with its own public key: it was altered or signed with another key; make a new CSR"
            )
        }
    }

    /// PEM form.
    public var pemEncoded: String { PEMBlock(label: "CERTIFICATE REQUEST", der: der).pemEncoded }

    /// Creates and signs a request for `subject` and `subjectAlternativeNames` with `key`.
    public static func create(
        subject: DistinguishedName, subjectAlternativeNames: [SubjectAlternativeName] = [], key: PrivateKey
    ) throws -> CertificateSigningRequest {
        for name in subjectAlternativeNames { try name.validate() }
        return try createWithOpenSSL(subject: subject, names: subjectAlternativeNames, key: key)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.der == rhs.der }
    public func hash(into hasher: inout Hasher) { hasher.combine(der) }
}
