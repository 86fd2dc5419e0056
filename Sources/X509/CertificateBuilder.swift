import Foundation

/// The contents of a certificate to be signed. Fill it in, then `sign(issuer:issuerKey:)`.
///
/// Values are checked when signing: SANs by syntax, URLs for characters that could not be encoded safely.
public struct CertificateBuilder: Sendable {
    public var subject: DistinguishedName
    public var publicKey: PublicKey
    /// Big-endian serial bytes; defaults to a fresh random 128-bit serial.
    public var serial: [UInt8]
    public var notBefore: Date
    public var notAfter: Date
    public var subjectAlternativeNames: [SubjectAlternativeName] = []
    /// Marked critical when present.
    public var basicConstraints: BasicConstraints?
    /// Marked critical when present.
    public var keyUsage: KeyUsage?
    public var extendedKeyUsage: [ExtendedKeyUsage]?
    /// Marked critical when present (RFC 5280 requires it).
    public var nameConstraints: NameConstraints?
    /// CRL distribution point URLs (http or https).
    public var crlDistributionPoints: [String] = []
    /// OCSP responder URLs (http or https), written into authority information access.
    public var ocspURLs: [String] = []

    public init(subject: DistinguishedName, publicKey: PublicKey, notBefore: Date, notAfter: Date) {
        self.subject = subject
        self.publicKey = publicKey
        self.serial = CertificateBuilder.randomSerial()
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// A random positive serial of 16 bytes (127 bits of entropy; the top bit is clear so DER needs no padding byte,
    /// and the first byte is never zero so every serial has the same length).
    public static func randomSerial() -> [UInt8] {
        var bytes = SecureRandom.bytes(16)
        bytes[0] &= 0x7f
        if bytes[0] == 0 { bytes[0] = 0x01 }
        return bytes
    }

    /// Signs the certificate. `issuer` nil means self-signed with `issuerKey` (which must then match `publicKey`).
    public func sign(issuer: Certificate?, issuerKey: PrivateKey) throws -> Certificate {
        guard notBefore < notAfter else {
            throw X509Error(.invalidValue, "notBefore (\(notBefore)) must be before notAfter (\(notAfter))")
        }
        for name in subjectAlternativeNames { try name.validate() }
        for url in crlDistributionPoints + ocspURLs { try CertificateBuilder.validateURL(url) }
        if issuer == nil, !issuerKey.matches(publicKey) {
            throw X509Error(.invalidValue, "a self-signed certificate must be signed by its own key")
        }
        if let issuer, !issuerKey.matches(issuer.publicKey) {
            throw X509Error(
                .invalidValue, "the signing key does not belong to the issuer certificate \(issuer.subject)")
        }
        return try signWithOpenSSL(issuer: issuer, issuerKey: issuerKey)
    }

    /// Checks that `url` is an http(s) URL that can be written into a certificate extension safely.
    public static func validateURL(_ url: String) throws {
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8, url.utf8.count <= 1024,
            url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f && $0 != "," && $0 != "\"" })
        else {
            throw X509Error(.invalidValue, "\"\(url.prefix(80))\" is not an http(s) URL without spaces or commas")
        }
    }
}
