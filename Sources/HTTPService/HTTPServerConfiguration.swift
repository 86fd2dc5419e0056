import HTTP1
import NetCore
import TLS

/// How an `HTTPServer` serves: plaintext or TLS, the bounds on what a request may hold, and how long it waits.
///
/// Every wait is bounded so a slow or silent client costs a connection for a known time only.
public struct HTTPServerConfiguration: Sendable {
    /// The default bound on a request body: the handler gets the body whole, so it is held in memory.
    public static let defaultBodyLimit = 1024 * 1024

    /// TLS for every connection, or nil for plaintext. Build the context from a server configuration
    /// (`TLSConfiguration.makeServerConfigurationWithMTLS`); its `clientAuthentication` decides whether a client
    /// certificate is required (refused in the handshake without one), requested, or not asked for.
    public var tls: TLSContext?
    /// Bounds on the request line, the header section and the body. `bodyBytes == nil` is taken as
    /// `defaultBodyLimit`: a body held whole must have a bound.
    public var limits: HTTPLimits
    /// Longest a TLS handshake may take.
    public var handshakeTimeout: Duration
    /// Longest a kept-alive connection may wait for its next request (and a new one for its first).
    public var idleTimeout: Duration
    /// Longest from the first byte of a request to the end of its head (slowloris). Answered 408 and closed.
    public var requestHeadTimeout: Duration
    /// Longest from the end of a request's head to the end of its body. Answered 408 and closed.
    public var requestBodyTimeout: Duration
    /// Longest a handler may take to respond. Answered 503 and closed; a later response is dropped.
    public var responseTimeout: Duration
    /// After the server answered and closed its side (an error, `Connection: close`), how long it keeps reading
    /// (and dropping) what the client still sends, so the client reads the answer instead of a reset.
    public var closeLinger: Duration
    /// Told about each client refused before its request reached the handler: a failed TLS handshake (the
    /// `TLSError` says why), a malformed request (`HTTPParseError`), a timeout (`HTTPServerRefusal`). Called on a
    /// loop thread; keep it cheap (a log line).
    public var onRefusal: (@Sendable (SocketAddress?, any Error) -> Void)?

    /// A configuration; every bound has a default (body 1 MiB, handshake 10 s, idle 60 s, head 10 s, body 60 s,
    /// handler 60 s, linger 5 s).
    public init(
        tls: TLSContext? = nil, limits: HTTPLimits = HTTPLimits(bodyBytes: HTTPServerConfiguration.defaultBodyLimit),
        handshakeTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60),
        requestHeadTimeout: Duration = .seconds(10), requestBodyTimeout: Duration = .seconds(60),
        responseTimeout: Duration = .seconds(60), closeLinger: Duration = .seconds(5),
        onRefusal: (@Sendable (SocketAddress?, any Error) -> Void)? = nil
    ) {
        self.tls = tls
        self.limits = limits
        self.handshakeTimeout = handshakeTimeout
        self.idleTimeout = idleTimeout
        self.requestHeadTimeout = requestHeadTimeout
        self.requestBodyTimeout = requestBodyTimeout
        self.responseTimeout = responseTimeout
        self.closeLinger = closeLinger
        self.onRefusal = onRefusal
    }

    /// The limits in force (`bodyBytes` filled in).
    var effectiveLimits: HTTPLimits {
        var limits = self.limits
        if limits.bodyBytes == nil { limits.bodyBytes = HTTPServerConfiguration.defaultBodyLimit }
        return limits
    }
}

/// Why the server itself refused a request before its handler saw it (besides a malformed request, which is an
/// `HTTPParseError`): a status it answered with and a reason, as passed to `HTTPServerConfiguration.onRefusal`.
public struct HTTPServerRefusal: Error, Sendable, CustomStringConvertible {
    /// The status the client was answered with.
    public let status: Int
    /// What was wrong.
    public let reason: String

    /// A refusal answered with `status`.
    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    /// `status: reason`.
    public var description: String { "\(status): \(reason)" }
}
