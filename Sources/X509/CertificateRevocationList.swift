import Foundation

/// A v2 certificate revocation list (RFC 5280 section 5) as a value.
public struct CertificateRevocationList: Sendable, Hashable {
    /// One revoked certificate.
    public struct Entry: Sendable, Hashable {
        /// Serial, lowercase hex.
        public let serial: String
        public let revocationDate: Date
        /// RFC 5280 CRLReason code, nil when the entry carries none (meaning unspecified).
        public let reasonCode: Int?
        public init(serial: String, revocationDate: Date, reasonCode: Int?) {
            self.serial = serial
            self.revocationDate = revocationDate
            self.reasonCode = reasonCode
        }
    }

    /// The CRL, DER.
    public let der: [UInt8]
    public let issuer: DistinguishedName
    public let thisUpdate: Date
    public let nextUpdate: Date?
    /// The CRL number extension.
    public let number: UInt64?
    public let authorityKeyIdentifier: [UInt8]?
    public let entries: [Entry]
    let handle: OpenSSLObject

    /// Parses a DER CRL.
    public init(der: [UInt8]) throws { self = try CertificateRevocationList.parse(der: der) }

    /// Every `X509 CRL` block in PEM text.
    public static func parseAll(pemEncoded text: String) throws -> [CertificateRevocationList] {
        let blocks = try PEMBlock.parseAll(text).filter { $0.label == "X509 CRL" }
        guard !blocks.isEmpty else { throw X509Error(.malformedInput, "no X509 CRL block in the PEM input") }
        return try blocks.map { try CertificateRevocationList(der: $0.der) }
    }

    /// Reads every CRL in a PEM (or one DER) file.
    public static func load(file path: String) throws -> [CertificateRevocationList] {
        do {
            let data = try SecureFile.read(path)
            if data.first == 0x30 { return [try CertificateRevocationList(der: [UInt8](data))] }
            return try parseAll(pemEncoded: String(decoding: data, as: UTF8.self))
        } catch let error as X509Error {
            throw error.about(file: path)
        }
    }

    /// PEM form.
    public var pemEncoded: String { PEMBlock(label: "X509 CRL", der: der).pemEncoded }

    /// The entry for `serial`, if revoked here.
    public func entry(serial: String) -> Entry? { entries.first { $0.serial == serial.lowercased() } }

    /// Whether the signature verifies with `issuer`'s public key.
    public func isSigned(by issuer: Certificate) -> Bool { verifySignature(issuer) }

    /// Builds and signs a CRL for `issuer`. Entries are written sorted by serial; a reason code 0 (unspecified)
    /// is left out as RFC 5280 5.3.1 recommends.
    public static func create(
        issuer: Certificate, issuerKey: PrivateKey, number: UInt64, thisUpdate: Date, nextUpdate: Date, entries: [Entry]
    ) throws -> CertificateRevocationList {
        guard issuerKey.matches(issuer.publicKey) else {
            throw X509Error(.invalidValue, "the signing key does not belong to the CRL issuer \(issuer.subject)")
        }
        guard thisUpdate < nextUpdate else { throw X509Error(.invalidValue, "thisUpdate must be before nextUpdate") }
        return try createWithOpenSSL(
            issuer: issuer, key: issuerKey, number: number, thisUpdate: thisUpdate, nextUpdate: nextUpdate,
            entries: entries)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.der == rhs.der }
    public func hash(into hasher: inout Hasher) { hasher.combine(der) }
}
