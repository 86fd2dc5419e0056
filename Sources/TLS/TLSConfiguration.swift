import Foundation
import X509

/// Everything a TLS endpoint needs, as a value. Build a `TLSContext` from it once and share the context across
/// connections and threads; rebuilding a context is how credentials, trust and revocation data are reloaded.
public struct TLSConfiguration: Sendable {
    /// Which side of the handshake this endpoint plays.
    public enum Role: Sendable { case server, client }

    /// Whether a server asks for, and insists on, a client certificate.
    public struct ClientAuthentication: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// A client without a valid certificate is refused in the handshake (the default).
        public static let require = ClientAuthentication(name: "require")
        /// A client may connect without a certificate and is marked unauthenticated; one that presents a
        /// certificate must present a valid one.
        public static let request = ClientAuthentication(name: "request")
        /// No client certificate is asked for.
        public static let none = ClientAuthentication(name: "none")
        /// Parses `require`, `request` or `none`.
        public init?(parsing text: String) {
            switch text {
            case "require": self = .require
            case "request": self = .request
            case "none": self = .none
            default: return nil
            }
        }
        private init(name: String) { self.name = name }
        public var description: String { name }
    }

    /// The lowest TLS version accepted.
    public enum MinimumVersion: Sendable { case tls12, tls13 }

    public var role: Role
    /// Our certificate chain, leaf first (intermediates follow; the root is not needed).
    public var certificateChain: [Certificate]
    /// The private key of the chain's leaf.
    public var privateKey: PrivateKey?
    /// The trust bundle: peers are verified against these and nothing else (never the system store). Self-signed
    /// certificates become trust anchors; any others are used as known intermediates. A server lists all of their
    /// subjects as acceptable CA names in its CertificateRequest.
    public var trustBundle: [Certificate]
    /// CRLs checked for every CA below the root; nil turns revocation checking off.
    public var crls: [CertificateRevocationList]?
    /// Accept a CRL past its nextUpdate instead of failing closed.
    public var acceptsStaleCRLs: Bool
    /// Server only.
    public var clientAuthentication: ClientAuthentication
    public var minimumVersion: MinimumVersion
    /// Client only: names the server's leaf must carry (a SPIFFE ID as a URI, or a DNS name). Empty: any server
    /// the bundle verifies.
    public var expectedServerNames: [SubjectAlternativeName]
    /// Client only: the SNI to send. Defaults to the first DNS name in `expectedServerNames`.
    public var serverName: String?
    /// Most verified chains remembered by the context's cache.
    public var verifiedChainCacheCapacity: Int
    /// Tests only: lets a client present a certificate with a key that is not its own, to prove the server refuses
    /// it. Never settable outside the module's tests.
    var skipsKeyMatchCheckForTesting = false

    public init(
        role: Role, certificateChain: [Certificate] = [], privateKey: PrivateKey? = nil, trustBundle: [Certificate],
        crls: [CertificateRevocationList]? = nil, acceptsStaleCRLs: Bool = false,
        clientAuthentication: ClientAuthentication = .require, minimumVersion: MinimumVersion = .tls13,
        expectedServerNames: [SubjectAlternativeName] = [], serverName: String? = nil,
        verifiedChainCacheCapacity: Int = 20_000
    ) {
        self.role = role
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.trustBundle = trustBundle
        self.crls = crls
        self.acceptsStaleCRLs = acceptsStaleCRLs
        self.clientAuthentication = clientAuthentication
        self.minimumVersion = minimumVersion
        self.expectedServerNames = expectedServerNames
        self.serverName = serverName ?? TLSConfiguration.firstDNSName(expectedServerNames)
        self.verifiedChainCacheCapacity = verifiedChainCacheCapacity
    }

    /// A server that requires (or requests) a client certificate verified against `trustBundle`.
    public static func makeServerConfigurationWithMTLS(
        certificateChain: [Certificate], privateKey: PrivateKey, trustBundle: [Certificate],
        crls: [CertificateRevocationList]? = nil, clientAuthentication: ClientAuthentication = .require
    ) -> TLSConfiguration {
        TLSConfiguration(
            role: .server, certificateChain: certificateChain, privateKey: privateKey, trustBundle: trustBundle,
            crls: crls, clientAuthentication: clientAuthentication)
    }

    /// A client that presents its certificate and accepts only a server verified against `trustBundle` that
    /// carries `expectedServerNames`.
    public static func makeClientConfigurationWithMTLS(
        certificateChain: [Certificate], privateKey: PrivateKey, trustBundle: [Certificate],
        expectedServerNames: [SubjectAlternativeName], crls: [CertificateRevocationList]? = nil
    ) -> TLSConfiguration {
        TLSConfiguration(
            role: .client, certificateChain: certificateChain, privateKey: privateKey, trustBundle: trustBundle,
            crls: crls, expectedServerNames: expectedServerNames)
    }

    static func firstDNSName(_ names: [SubjectAlternativeName]) -> String? {
        for name in names { if case .dns(let host) = name { return host } }
        return nil
    }
}
