import Foundation

/// An X.509 certificate as an immutable value: its DER and every field Symbolon reads, parsed once by OpenSSL.
public struct Certificate: Sendable, Hashable, CustomStringConvertible {
    /// The certificate, DER.
    public let der: [UInt8]
    public let version: Int
    /// Serial as lowercase hex (the form `openssl x509 -serial` prints, lowercased).
    public let serial: String
    public let subject: DistinguishedName
    public let issuer: DistinguishedName
    public let notBefore: Date
    public let notAfter: Date
    public let publicKey: PublicKey
    /// Signature algorithm's short name, e.g. `ecdsa-with-SHA256`.
    public let signatureAlgorithm: String
    public let subjectAlternativeNames: [SubjectAlternativeName]
    /// Basic constraints, nil when the extension is absent.
    public let basicConstraints: BasicConstraints?
    /// Key usage, nil when the extension is absent.
    public let keyUsage: KeyUsage?
    /// Extended key usage, nil when the extension is absent.
    public let extendedKeyUsage: [ExtendedKeyUsage]?
    public let nameConstraints: NameConstraints?
    /// Subject key identifier bytes.
    public let subjectKeyIdentifier: [UInt8]?
    /// Authority key identifier (key id) bytes.
    public let authorityKeyIdentifier: [UInt8]?
    /// URIs of the CRL distribution points.
    public let crlDistributionPoints: [String]
    /// OCSP responder URLs from the authority information access extension.
    public let ocspURLs: [String]
    /// CA issuer URLs from the authority information access extension.
    public let caIssuerURLs: [String]
    /// Whether subject and issuer are equal and the certificate's own key verifies its signature.
    public let isSelfSigned: Bool
    let handle: OpenSSLObject

    /// SHA-256 over the DER certificate.
    public var fingerprintSHA256: [UInt8] { Digest.sha256(der) }

    /// The SPIFFE ID: the certificate's single URI SAN when it is a valid `spiffe://` ID, else nil.
    /// (The X.509-SVID specification allows exactly one URI SAN.)
    public var spiffeID: SPIFFEID? {
        let uris = subjectAlternativeNames.compactMap { name -> String? in
            if case .uri(let value) = name { return value }
            return nil
        }
        guard uris.count == 1, uris[0].hasPrefix("spiffe://") else { return nil }
        return try? SPIFFEID(uris[0])
    }

    /// DNS names in the SAN extension.
    public var dnsNames: [String] {
        subjectAlternativeNames.compactMap { if case .dns(let v) = $0 { return v } else { return nil } }
    }

    /// Whether this is a CA certificate (basic constraints cA=TRUE).
    public var isCA: Bool { basicConstraints?.isCA ?? false }

    /// Parses one DER certificate.
    public init(der: [UInt8]) throws {
        self = try Certificate.parse(der: der)
    }

    /// Parses the first certificate in PEM text.
    public init(pemEncoded text: String) throws {
        let all = try Certificate.parseBundle(pemEncoded: text)
        self = all[0]
    }

    /// Every certificate in PEM text (a chain or bundle), in order. Blocks with other labels are ignored, but the
    /// input must hold at least one certificate.
    public static func parseBundle(pemEncoded text: String) throws -> [Certificate] {
        let blocks = try PEMBlock.parseAll(text).filter {
            $0.label == "CERTIFICATE" || $0.label == "TRUSTED CERTIFICATE"
        }
        guard !blocks.isEmpty else { throw X509Error(.malformedInput, "no CERTIFICATE block in the PEM input") }
        return try blocks.enumerated().map { index, block in
            do { return try Certificate(der: block.der) } catch let error as X509Error {
                throw X509Error(
                    error.code, "certificate #\(index + 1) in the input: \(error.reason)",
                    openSSLErrors: error.openSSLErrors)
            }
        }
    }

    /// Reads a PEM (or DER) certificate file; with `bundle` every certificate in it.
    public static func load(file path: String) throws -> [Certificate] {
        do {
            let data = try SecureFile.read(path)
            if let first = data.first, first == 0x30 {  // DER SEQUENCE
                return [try Certificate(der: [UInt8](data))]
            }
            return try parseBundle(pemEncoded: String(decoding: data, as: UTF8.self))
        } catch let error as X509Error {
            throw error.about(file: path)
        }
    }

    /// PEM form.
    public var pemEncoded: String { PEMBlock(label: "CERTIFICATE", der: der).pemEncoded }

    /// Whether `date` falls within notBefore…notAfter.
    public func isValid(at date: Date) -> Bool { notBefore <= date && date <= notAfter }

    public var description: String { "\(subject) (serial \(serial))" }

    public static func == (lhs: Certificate, rhs: Certificate) -> Bool { lhs.der == rhs.der }
    public func hash(into hasher: inout Hasher) { hasher.combine(der) }

    init(
        der: [UInt8], version: Int, serial: String, subject: DistinguishedName, issuer: DistinguishedName,
        notBefore: Date, notAfter: Date, publicKey: PublicKey, signatureAlgorithm: String,
        subjectAlternativeNames: [SubjectAlternativeName], basicConstraints: BasicConstraints?, keyUsage: KeyUsage?,
        extendedKeyUsage: [ExtendedKeyUsage]?, nameConstraints: NameConstraints?, subjectKeyIdentifier: [UInt8]?,
        authorityKeyIdentifier: [UInt8]?, crlDistributionPoints: [String], ocspURLs: [String], caIssuerURLs: [String],
        isSelfSigned: Bool, handle: OpenSSLObject
    ) {
        self.der = der
        self.version = version
        self.serial = serial
        self.subject = subject
        self.issuer = issuer
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.publicKey = publicKey
        self.signatureAlgorithm = signatureAlgorithm
        self.subjectAlternativeNames = subjectAlternativeNames
        self.basicConstraints = basicConstraints
        self.keyUsage = keyUsage
        self.extendedKeyUsage = extendedKeyUsage
        self.nameConstraints = nameConstraints
        self.subjectKeyIdentifier = subjectKeyIdentifier
        self.authorityKeyIdentifier = authorityKeyIdentifier
        self.crlDistributionPoints = crlDistributionPoints
        self.ocspURLs = ocspURLs
        self.caIssuerURLs = caIssuerURLs
        self.isSelfSigned = isSelfSigned
        self.handle = handle
    }
}
