import Foundation
import X509

/// The rules for one kind of certificate: what it may be used for, which names it may carry, how long it lives.
///
/// Built-in profiles: `service`, `server`, `client`, `user`, `device`. Custom profiles come from a JSON file with
/// the same fields (see `docs/profiles.md`).
public struct CertificateProfile: Sendable, Codable, Equatable {
    /// Kinds of subject alternative name a profile may allow.
    public struct NameKind: Hashable, Sendable, Codable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public static let dns = NameKind("dns")
        public static let ip = NameKind("ip")
        public static let spiffe = NameKind("spiffe")
        public static let email = NameKind("email")
        public var description: String { rawValue }
        public init(from decoder: Decoder) throws {
            let value = try decoder.singleValueContainer().decode(String.self)
            guard ["dns", "ip", "spiffe", "email"].contains(value) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription: "unknown name kind \"\(value)\" (dns, ip, spiffe, email)"))
            }
            rawValue = value
        }
        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }

    public var name: String
    /// One line for `symbolon ca profiles`.
    public var summary: String
    /// RFC 5280 key usage names, e.g. `["digitalSignature"]`.
    public var keyUsage: [String]
    /// EKU names or OIDs, e.g. `["clientAuth", "serverAuth"]`.
    public var extendedKeyUsage: [String]
    /// SAN kinds the certificate may carry.
    public var allowedNames: [NameKind]
    /// SAN kinds of which the certificate must carry at least one (empty: no name required).
    public var requiredNames: [NameKind]
    /// Whether a common name is required.
    public var requiresCommonName: Bool
    /// Whether a device serial (subject `serialNumber` attribute) is required.
    public var requiresDeviceSerial: Bool
    /// Lifetime when the request names none, seconds.
    public var defaultLifetime: TimeInterval
    /// Longest lifetime allowed, seconds.
    public var maximumLifetime: TimeInterval
    /// Up to this fraction of the lifetime is taken off notAfter at random, so certificates issued together do not
    /// expire together. 0 turns it off.
    public var expiryJitter: Double

    public init(
        name: String, summary: String, keyUsage: [String], extendedKeyUsage: [String], allowedNames: [NameKind],
        requiredNames: [NameKind], requiresCommonName: Bool = false, requiresDeviceSerial: Bool = false,
        defaultLifetime: TimeInterval, maximumLifetime: TimeInterval, expiryJitter: Double = 0
    ) {
        self.name = name
        self.summary = summary
        self.keyUsage = keyUsage
        self.extendedKeyUsage = extendedKeyUsage
        self.allowedNames = allowedNames
        self.requiredNames = requiredNames
        self.requiresCommonName = requiresCommonName
        self.requiresDeviceSerial = requiresDeviceSerial
        self.defaultLifetime = defaultLifetime
        self.maximumLifetime = maximumLifetime
        self.expiryJitter = expiryJitter
    }

    /// Checks the profile itself (used for custom profiles from JSON); the error names the field.
    public func validate() throws {
        func bad(_ why: String) -> CAError { CAError(.badConfiguration, "profile \"\(name)\": \(why)") }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw bad("the name must be letters, digits, \"-\" or \"_\"")
        }
        for usage in keyUsage where KeyUsage(name: usage) == nil { throw bad("unknown key usage \"\(usage)\"") }
        guard !keyUsage.isEmpty else { throw bad("keyUsage must not be empty") }
        for usage in extendedKeyUsage where ExtendedKeyUsage(name: usage) == nil {
            throw bad("unknown extended key usage \"\(usage)\"")
        }
        guard !extendedKeyUsage.isEmpty else { throw bad("extendedKeyUsage must not be empty") }
        for kind in requiredNames where !allowedNames.contains(kind) {
            throw bad("requiredNames \(kind) is not in allowedNames")
        }
        guard defaultLifetime > 0, maximumLifetime >= defaultLifetime else {
            throw bad("defaultLifetime must be positive and not above maximumLifetime")
        }
        guard (0..<0.5).contains(expiryJitter) else { throw bad("expiryJitter must be from 0 to below 0.5") }
    }

    var keyUsageSet: KeyUsage {
        keyUsage.compactMap(KeyUsage.init(name:)).reduce(into: KeyUsage()) { $0.formUnion($1) }
    }
    var extendedKeyUsages: [ExtendedKeyUsage] { extendedKeyUsage.compactMap(ExtendedKeyUsage.init(name:)) }
}

extension CertificateProfile {
    static let hour: TimeInterval = 3600
    static let day: TimeInterval = 86_400

    /// A workload (SPIFFE X.509-SVID style): client and server auth, a SPIFFE ID required, 24 h, jittered expiry.
    public static let service = CertificateProfile(
        name: "service", summary: "workload identity: SPIFFE ID required, clientAuth+serverAuth, 24h (max 7d)",
        keyUsage: ["digitalSignature"], extendedKeyUsage: ["serverAuth", "clientAuth"],
        allowedNames: [.spiffe, .dns, .ip], requiredNames: [.spiffe],
        defaultLifetime: day, maximumLifetime: 7 * day, expiryJitter: 0.1)

    /// A TLS server: serverAuth, DNS names and/or IP addresses.
    public static let server = CertificateProfile(
        name: "server", summary: "TLS server: DNS/IP names, serverAuth, 30d (max 397d)",
        keyUsage: ["digitalSignature"], extendedKeyUsage: ["serverAuth"],
        allowedNames: [.dns, .ip], requiredNames: [.dns, .ip],
        defaultLifetime: 30 * day, maximumLifetime: 397 * day)

    /// A TLS client: clientAuth, identified by common name, SPIFFE ID, DNS name or e-mail.
    public static let client = CertificateProfile(
        name: "client", summary: "TLS client: clientAuth, CN and optional names, 24h (max 90d)",
        keyUsage: ["digitalSignature"], extendedKeyUsage: ["clientAuth"],
        allowedNames: [.spiffe, .dns, .email], requiredNames: [], requiresCommonName: true,
        defaultLifetime: day, maximumLifetime: 90 * day)

    /// A person in a browser: clientAuth, e-mail and name, 90 days.
    public static let user = CertificateProfile(
        name: "user", summary: "person in a browser: e-mail and name (CN) required, clientAuth, 90d (max 397d)",
        keyUsage: ["digitalSignature"], extendedKeyUsage: ["clientAuth"],
        allowedNames: [.email], requiredNames: [.email], requiresCommonName: true,
        defaultLifetime: 90 * day, maximumLifetime: 397 * day)

    /// A device in a fleet: clientAuth, the device serial in the subject, 1 year, jittered expiry.
    public static let device = CertificateProfile(
        name: "device", summary: "device in a fleet: device serial in the subject, clientAuth, 1y (max 825d)",
        keyUsage: ["digitalSignature"], extendedKeyUsage: ["clientAuth"],
        allowedNames: [.spiffe, .dns], requiredNames: [], requiresDeviceSerial: true,
        defaultLifetime: 365 * day, maximumLifetime: 825 * day, expiryJitter: 0.05)

    /// The built-in profiles.
    public static let builtIn: [CertificateProfile] = [.service, .server, .client, .user, .device]
}
