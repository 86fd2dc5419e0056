import HTTP1
import NetCore
import TLS

/// One complete request as the server's handler gets it: the head, the whole body, and who sent it.
///
/// The body is read whole before the handler runs, bounded by `HTTPServerConfiguration.limits.bodyBytes`.
public struct HTTPRequest: Sendable {
    /// The method as sent (`GET`, `POST` …; case-sensitive, as HTTP says).
    public let method: String
    /// The request target as sent: `/path?query`, an absolute URL (`http://host/path`), or `*` for `OPTIONS`.
    public let target: String
    /// The path of the target, still percent-encoded, as sent (`/v1/certificates`; `*` for `OPTIONS *`). Not
    /// normalised: compare it exactly, and refuse what you do not recognise.
    public let path: String
    /// What follows `?` in the target, still percent-encoded; nil when there is no `?`.
    public let query: String?
    /// HTTP/1.1, or HTTP/1.0.
    public let version: HTTPVersion
    /// Header fields in order, names as sent. Look them up with `values(_:)` / `value(_:)`.
    public let headers: [HTTPField]
    /// The body, whole (empty when there is none). Chunked bodies arrive de-chunked.
    public let body: [UInt8]
    /// The client's verified identity on a TLS server that asked for a certificate (`PeerIdentity.unauthenticated`
    /// when the client sent none in `request` mode); nil on a plaintext server.
    public let peer: PeerIdentity?
    /// The client's address.
    public let remoteAddress: SocketAddress?

    /// A request with these parts; `path` and `query` are split from `target` (for tests of handlers).
    public init(
        method: String, target: String, version: HTTPVersion = .http11, headers: [HTTPField] = [], body: [UInt8] = [],
        peer: PeerIdentity? = nil, remoteAddress: SocketAddress? = nil
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.peer = peer
        self.remoteAddress = remoteAddress
        (path, query) = HTTPRequest.split(target)
    }

    /// The values of the header `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] { headers.values(name) }

    /// The single value of the header `name` (case-insensitive); nil when it is absent or appears more than once
    /// (a repeated field you expect once is a reason to refuse the request, not to pick one).
    public func value(_ name: String) -> String? {
        let all = values(name)
        return all.count == 1 ? all[0] : nil
    }

    /// The body decoded as UTF-8 (invalid sequences become U+FFFD).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Path and query of an origin-form (`/p?q`), absolute-form (`http://host/p?q`) or asterisk target.
    static func split(_ target: String) -> (path: String, query: String?) {
        var rest = Substring(target)
        if !rest.hasPrefix("/"), rest != "*", let scheme = rest.range(of: "://") {
            // Absolute form: the path starts at the first "/" after the authority; none means "/".
            let afterAuthority = rest[scheme.upperBound...]
            if let slash = afterAuthority.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                rest = afterAuthority[slash...]
            } else {
                rest = "/"
            }
            if rest.hasPrefix("?") { rest = Substring("/" + rest) }
        }
        guard let mark = rest.firstIndex(of: "?") else { return (String(rest), nil) }
        return (String(rest[..<mark]), String(rest[rest.index(after: mark)...]))
    }
}
