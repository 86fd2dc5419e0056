import NetCore
import Policy
import TLS
import X509

/// What a `symbolon proxy server|client` runs with: addresses, the credential files (re-read on reload), the
/// authorization rules, and timeouts. A value; the files it names are loaded by `ProxyCredentials`.
public struct ProxyConfiguration: Sendable {
    /// `server`: mTLS in, plaintext to the target. `client`: plaintext in (a local app), mTLS to the target.
    public enum Mode: String, Sendable { case server, client }

    /// Where authorization rules come from; re-read from `policyFile` on every reload.
    public struct PolicySource: Sendable {
        /// Rules from command-line flags (`--allow-…`).
        public var flags: AuthorizationPolicy
        /// A JSON policy file merged with the flags.
        public var policyFile: String?
        public init(flags: AuthorizationPolicy, policyFile: String? = nil) {
            self.flags = flags
            self.policyFile = policyFile
        }
    }

    /// Server mode: TLS toward the target (re-encryption), presenting our certificate and verifying the target's.
    public struct TargetTLS: Sendable {
        /// The bundle the target's certificate must chain to.
        public var bundleFile: String
        /// Names the target's certificate must carry (a SPIFFE ID as a URI, or DNS names; DNS is also the SNI).
        public var expectedNames: [SubjectAlternativeName]
        public init(bundleFile: String, expectedNames: [SubjectAlternativeName]) {
            self.bundleFile = bundleFile
            self.expectedNames = expectedNames
        }
    }

    public var mode: Mode
    public var listen: SocketAddress
    public var target: SocketAddress
    /// Our certificate chain (leaf first) and key files.
    public var certificateFile: String
    public var keyFile: String
    /// The trust bundle file.
    public var bundleFile: String
    /// CRL files (one per CA); empty turns revocation checking off.
    public var crlFiles: [String]
    public var acceptsStaleCRLs: Bool
    /// Server mode.
    public var clientAuthentication: TLSConfiguration.ClientAuthentication
    /// Server mode: who may connect.
    public var policy: PolicySource
    /// Client mode: the names the upstream server must carry.
    public var expectedServerNames: [SubjectAlternativeName]
    public var minimumVersion: TLSConfiguration.MinimumVersion
    /// Server mode: TLS to the target instead of plaintext; nil for plaintext.
    public var targetTLS: TargetTLS?
    /// Server mode: send a PROXY protocol v2 header with the client's address and verified identity to the target.
    public var sendsProxyProtocol: Bool
    public var handshakeTimeout: Duration
    /// An established connection with no bytes in either direction for this long is closed.
    public var idleTimeout: Duration
    public var connectTimeout: Duration
    /// Longest wait for open connections to finish after SIGTERM.
    public var drainTimeout: Duration
    /// How often the credential files are checked for changes; nil: only on SIGHUP.
    public var watchInterval: Duration?
    public var logFormat: ConnectionLogger.Format
    /// Event loops (threads); defaults to the number of cores.
    public var threads: Int
    /// Server mode: speak HTTP/1.1 to clients and backend (identity headers, route policy); nil passes bytes.
    public var http: HTTPProxyOptions?

    public init(
        mode: Mode, listen: SocketAddress, target: SocketAddress, certificateFile: String, keyFile: String,
        bundleFile: String, crlFiles: [String] = [], acceptsStaleCRLs: Bool = false,
        clientAuthentication: TLSConfiguration.ClientAuthentication = .require,
        policy: PolicySource = .init(flags: AuthorizationPolicy(rules: [])),
        expectedServerNames: [SubjectAlternativeName] = [], minimumVersion: TLSConfiguration.MinimumVersion = .tls13,
        targetTLS: TargetTLS? = nil, sendsProxyProtocol: Bool = false, handshakeTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(3600),
        connectTimeout: Duration = .seconds(5), drainTimeout: Duration = .seconds(30),
        watchInterval: Duration? = .seconds(1), logFormat: ConnectionLogger.Format = .text, threads: Int = 0,
        http: HTTPProxyOptions? = nil
    ) {
        self.mode = mode
        self.listen = listen
        self.target = target
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.bundleFile = bundleFile
        self.crlFiles = crlFiles
        self.acceptsStaleCRLs = acceptsStaleCRLs
        self.clientAuthentication = clientAuthentication
        self.policy = policy
        self.expectedServerNames = expectedServerNames
        self.minimumVersion = minimumVersion
        self.targetTLS = targetTLS
        self.sendsProxyProtocol = sendsProxyProtocol
        self.handshakeTimeout = handshakeTimeout
        self.idleTimeout = idleTimeout
        self.connectTimeout = connectTimeout
        self.drainTimeout = drainTimeout
        self.watchInterval = watchInterval
        self.logFormat = logFormat
        self.threads = threads
        self.http = http
    }

    /// Every file the proxy reads, for change detection.
    var watchedFiles: [String] {
        [certificateFile, keyFile, bundleFile] + crlFiles + (policy.policyFile.map { [$0] } ?? [])
            + (targetTLS.map { [$0.bundleFile] } ?? []) + (http?.routesFile.map { [$0] } ?? [])
            + (http?.signingKeyFile.map { [$0] } ?? [])
    }
}
