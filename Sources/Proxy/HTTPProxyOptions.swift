import HTTP1

/// What `--mode http` adds to a server-mode proxy: identity headers, the route policy file, request limits.
public struct HTTPProxyOptions: Sendable {
    /// Envoy's `forward_client_cert_details` modes for `x-forwarded-client-cert`.
    public enum XFCCMode: String, Sendable, CaseIterable {
        /// Remove inbound XFCC; add nothing.
        case sanitize
        /// Forward inbound XFCC unchanged; add nothing.
        case forwardOnly = "forward-only"
        /// Forward inbound XFCC and append the proxy's element.
        case appendForward = "append-forward"
        /// Remove inbound XFCC and set the proxy's element (the default).
        case sanitizeSet = "sanitize-set"
        /// Forward inbound XFCC unchanged, whoever the client is.
        case alwaysForwardOnly = "always-forward-only"

        /// Whether an XFCC the client sent survives.
        var keepsInbound: Bool { self == .forwardOnly || self == .appendForward || self == .alwaysForwardOnly }
        /// Whether the proxy adds its own element.
        var adds: Bool { self == .appendForward || self == .sanitizeSet }
    }

    /// Optional XFCC fields (`By` and `Hash` are always set).
    public enum XFCCDetail: String, Sendable, CaseIterable {
        case subject, uri, dns, cert, chain
    }

    public var xfcc: XFCCMode
    public var xfccDetails: Set<XFCCDetail>
    /// RFC 9440 `Client-Cert` and `Client-Cert-Chain`.
    public var clientCertHeaders: Bool
    /// The simple header with the SPIFFE ID; nil for none.
    public var identityHeader: String?
    /// A private key (PEM) to sign a per-request identity token with; nil for none.
    public var signingKeyFile: String?
    public var signedIdentityHeader: String
    public var identityTokenTTL: Duration
    /// The route policy file; nil lets every admitted client call every route.
    public var routesFile: String?
    public var limits: HTTPLimits
    /// A request head must arrive whole within this long of its first byte (slow-header clients get 408).
    public var requestHeadTimeout: Duration
    /// Keep identity headers the client sent (never at an edge; the proxy warns at start).
    public var forwardsInboundIdentityHeaders: Bool

    public init(
        xfcc: XFCCMode = .sanitizeSet, xfccDetails: Set<XFCCDetail> = [.subject, .uri, .dns],
        clientCertHeaders: Bool = true, identityHeader: String? = "X-Client-SPIFFE-ID", signingKeyFile: String? = nil,
        signedIdentityHeader: String = "X-Symbolon-Identity", identityTokenTTL: Duration = .seconds(60),
        routesFile: String? = nil, limits: HTTPLimits = HTTPLimits(), requestHeadTimeout: Duration = .seconds(30),
        forwardsInboundIdentityHeaders: Bool = false
    ) {
        self.xfcc = xfcc
        self.xfccDetails = xfccDetails
        self.clientCertHeaders = clientCertHeaders
        self.identityHeader = identityHeader
        self.signingKeyFile = signingKeyFile
        self.signedIdentityHeader = signedIdentityHeader
        self.identityTokenTTL = identityTokenTTL
        self.routesFile = routesFile
        self.limits = limits
        self.requestHeadTimeout = requestHeadTimeout
        self.forwardsInboundIdentityHeaders = forwardsInboundIdentityHeaders
    }

    /// Lower-cased names of every header that carries an identity: inbound copies are removed.
    var identityHeaderNames: Set<String> {
        var names: Set<String> = ["client-cert", "client-cert-chain", signedIdentityHeader.lowercased()]
        if !xfcc.keepsInbound { names.insert("x-forwarded-client-cert") }
        if let identityHeader { names.insert(identityHeader.lowercased()) }
        names.insert("x-client-spiffe-id")
        return names
    }

    /// Start-up warnings for settings that trust what clients send.
    public var warnings: [String] {
        var warnings: [String] = []
        if forwardsInboundIdentityHeaders {
            warnings.append(
                "--unsafe-forward-inbound-identity-headers: identity headers sent by clients reach the backend "
                    + "unchanged; any client can claim any identity")
        }
        if xfcc.keepsInbound {
            warnings.append(
                "--xfcc \(xfcc.rawValue): the x-forwarded-client-cert header clients send reaches the backend; use it "
                    + "only behind another proxy that sets it")
        }
        return warnings
    }
}
