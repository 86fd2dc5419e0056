import Foundation

/// One issued certificate as the inventory knows it.
public struct CertificateRecord: Sendable, Equatable, Codable {
    /// Serial number as lowercase hexadecimal without leading "0x" (as `openssl x509 -serial` prints it, lowercased).
    public var serial: String
    /// Name of the profile the certificate was issued under (`service`, `user`, …).
    public var profile: String
    /// Subject distinguished name, RFC 2253 form.
    public var subject: String
    /// The SPIFFE ID in the URI SAN, when there is one.
    public var spiffeID: String?
    /// Subject alternative names for display and search, each prefixed with its kind: `DNS:`, `IP:`, `URI:`, `email:`.
    public var subjectAlternativeNames: [String]
    public var notBefore: Date
    public var notAfter: Date
    public var issuedAt: Date
    /// SHA-256 of the DER certificate, lowercase hex.
    public var fingerprintSHA256: String
    /// The certificate, DER.
    public var der: Data
    /// Set once the certificate is revoked.
    public var revocation: Revocation?

    public init(
        serial: String, profile: String, subject: String, spiffeID: String?, subjectAlternativeNames: [String],
        notBefore: Date, notAfter: Date, issuedAt: Date, fingerprintSHA256: String, der: Data,
        revocation: Revocation? = nil
    ) {
        self.serial = serial
        self.profile = profile
        self.subject = subject
        self.spiffeID = spiffeID
        self.subjectAlternativeNames = subjectAlternativeNames
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.issuedAt = issuedAt
        self.fingerprintSHA256 = fingerprintSHA256
        self.der = der
        self.revocation = revocation
    }
}

/// When and why a certificate was revoked.
public struct Revocation: Sendable, Equatable, Codable {
    public var date: Date
    public var reason: RevocationReason
    public init(date: Date, reason: RevocationReason) {
        self.date = date
        self.reason = reason
    }
}

/// An RFC 5280 CRLReason (section 5.3.1). Code 7 is unused in the RFC and has no value here.
public struct RevocationReason: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The RFC 5280 code.
    public let code: Int
    /// The RFC 5280 name, e.g. `keyCompromise`.
    public let name: String

    public static let unspecified = RevocationReason(code: 0, name: "unspecified")
    public static let keyCompromise = RevocationReason(code: 1, name: "keyCompromise")
    public static let caCompromise = RevocationReason(code: 2, name: "cACompromise")
    public static let affiliationChanged = RevocationReason(code: 3, name: "affiliationChanged")
    public static let superseded = RevocationReason(code: 4, name: "superseded")
    public static let cessationOfOperation = RevocationReason(code: 5, name: "cessationOfOperation")
    public static let certificateHold = RevocationReason(code: 6, name: "certificateHold")
    public static let removeFromCRL = RevocationReason(code: 8, name: "removeFromCRL")
    public static let privilegeWithdrawn = RevocationReason(code: 9, name: "privilegeWithdrawn")
    public static let aaCompromise = RevocationReason(code: 10, name: "aACompromise")

    /// Every reason, in code order.
    public static let all: [RevocationReason] = [
        .unspecified, .keyCompromise, .caCompromise, .affiliationChanged, .superseded, .cessationOfOperation,
        .certificateHold, .removeFromCRL, .privilegeWithdrawn, .aaCompromise,
    ]

    /// The reason with this RFC 5280 code, or nil.
    public init?(code: Int) {
        guard let found = RevocationReason.all.first(where: { $0.code == code }) else { return nil }
        self = found
    }

    /// The reason with this name, case-insensitive (`keyCompromise`, `key-compromise` and `keycompromise` all match).
    public init?(name: String) {
        let wanted = name.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "")
        guard let found = RevocationReason.all.first(where: { $0.name.lowercased() == wanted }) else { return nil }
        self = found
    }

    private init(code: Int, name: String) {
        self.code = code
        self.name = name
    }

    public var description: String { name }

    public init(from decoder: Decoder) throws {
        let code = try decoder.singleValueContainer().decode(Int.self)
        guard let reason = RevocationReason(code: code) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "CRL reason \(code)"))
        }
        self = reason
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}

/// Which certificates `CertificateStore.certificates(matching:)` returns. Empty filter: all of them.
public struct InventoryFilter: Sendable, Equatable {
    /// Only certificates whose notAfter is before this date (and that are not revoked).
    public var expiringBefore: Date?
    /// Only revoked certificates.
    public var revokedOnly: Bool
    /// Only this profile.
    public var profile: String?
    /// Only this exact SPIFFE ID.
    public var spiffeID: String?

    public init(expiringBefore: Date? = nil, revokedOnly: Bool = false, profile: String? = nil, spiffeID: String? = nil)
    {
        self.expiringBefore = expiringBefore
        self.revokedOnly = revokedOnly
        self.profile = profile
        self.spiffeID = spiffeID
    }
}

/// A CRL the authority produced.
public struct CRLRecord: Sendable, Equatable {
    /// `intermediate` or `root`.
    public var issuer: String
    public var number: UInt64
    public var thisUpdate: Date
    public var nextUpdate: Date
    public init(issuer: String, number: UInt64, thisUpdate: Date, nextUpdate: Date) {
        self.issuer = issuer
        self.number = number
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
    }
}

/// One line of the append-only audit log.
public struct AuditEvent: Sendable, Equatable, Codable {
    public var time: Date
    /// What happened: `ca.init`, `certificate.issue`, `certificate.revoke`, `crl.publish`, `root-key.export` …
    public var action: String
    /// Who did it (the OS user running the command, or a service identity).
    public var actor: String
    /// The serial concerned, when there is one.
    public var serial: String?
    /// Free-form details, stored as JSON.
    public var details: [String: String]

    public init(time: Date, action: String, actor: String, serial: String? = nil, details: [String: String] = [:]) {
        self.time = time
        self.action = action
        self.actor = actor
        self.serial = serial
        self.details = details
    }
}
