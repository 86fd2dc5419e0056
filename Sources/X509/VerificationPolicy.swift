import Foundation

/// What a chain must satisfy to be accepted by `ChainVerifier`. Defaults: now, strict RFC 5280 checks, any purpose,
/// no revocation checking.
public struct VerificationPolicy: Sendable {
    /// The TLS role the leaf is used for, checked the way OpenSSL's `-purpose sslclient|sslserver` does.
    public struct Purpose: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// TLS client authentication (EKU clientAuth when the leaf has an EKU extension).
        public static let client = Purpose(rawName: "client")
        /// TLS server authentication (EKU serverAuth when the leaf has an EKU extension).
        public static let server = Purpose(rawName: "server")
        /// Parses `client` or `server`.
        public init?(name: String) {
            switch name.lowercased() {
            case "client", "clientauth", "sslclient": self = Purpose.client
            case "server", "serverauth", "sslserver": self = Purpose.server
            default: return nil
            }
        }
        private init(rawName: String) { self.name = rawName }
        public var description: String { name }
    }

    /// The moment the chain must be valid at.
    public var time: Date
    public var purpose: Purpose?
    /// Purposes the leaf's EKU extension must list explicitly (or via anyExtendedKeyUsage).
    public var requiredExtendedKeyUsages: [ExtendedKeyUsage]
    /// Names the leaf must carry, each of them: DNS (wildcards as RFC 6125), IP, e-mail, or URI (exact).
    public var requiredNames: [SubjectAlternativeName]
    /// Most intermediates allowed between leaf and root; nil for OpenSSL's default (100).
    public var maximumIntermediates: Int?
    /// RFC 5280 strict checks (OpenSSL's X509_V_FLAG_X509_STRICT). On by default.
    public var strict: Bool
    /// When set, revocation is checked for every certificate below the root and a CA without a CRL here is a
    /// rejection. nil: no revocation checking.
    public var crls: [CertificateRevocationList]?
    /// Accept a CRL past its nextUpdate (it still revokes what it lists). Off by default: a stale CRL fails closed.
    public var acceptsStaleCRLs: Bool = false

    public init(
        time: Date = Date(), purpose: Purpose? = nil, requiredExtendedKeyUsages: [ExtendedKeyUsage] = [],
        requiredNames: [SubjectAlternativeName] = [], maximumIntermediates: Int? = nil, strict: Bool = true,
        crls: [CertificateRevocationList]? = nil
    ) {
        self.time = time
        self.purpose = purpose
        self.requiredExtendedKeyUsages = requiredExtendedKeyUsages
        self.requiredNames = requiredNames
        self.maximumIntermediates = maximumIntermediates
        self.strict = strict
        self.crls = crls
    }

    /// A policy for authenticating TLS clients: purpose client, strict.
    public static func tlsClient(at time: Date = Date(), crls: [CertificateRevocationList]? = nil) -> VerificationPolicy
    {
        VerificationPolicy(time: time, purpose: .client, crls: crls)
    }

    /// A policy for authenticating TLS servers by name: purpose server, strict.
    public static func tlsServer(named names: [SubjectAlternativeName], at time: Date = Date()) -> VerificationPolicy {
        VerificationPolicy(time: time, purpose: .server, requiredNames: names)
    }
}
