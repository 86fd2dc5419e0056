import HTTP1

/// What a handler answers: a status, header fields and a whole body.
///
/// The server owns the framing: it writes `Content-Length` (from `body`), `Connection` and, unless you set one,
/// `Date`; any `Content-Length`, `Transfer-Encoding`, `Connection` or `Keep-Alive` you set is dropped. A response
/// the server cannot send as given (a status outside 200–599, a header name that is not a token, a value with CR,
/// LF or NUL) is replaced by a 500 that says why, so a handler's mistake never puts bad bytes on the wire.
public struct HTTPResponse: Sendable {
    /// 200–599. (Interim 1xx responses are the server's business: `100 Continue` is sent for you.)
    public var status: Int
    /// The reason phrase; nil for the standard one.
    public var reason: String?
    /// Header fields, sent in order (framing fields excepted, see above).
    public var headers: [HTTPField]
    /// Sent whole, except for `HEAD` requests and 204/304 answers, which carry no body.
    public var body: [UInt8]

    /// A response; by default `200 OK` with no fields and no body.
    public init(status: Int = 200, reason: String? = nil, headers: [HTTPField] = [], body: [UInt8] = []) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// A plain-text response: `text` (a newline appended when it has none) with
    /// `Content-Type: text/plain; charset=utf-8` unless `headers` names a type.
    public init(status: Int = 200, headers: [HTTPField] = [], text: String) {
        var headers = headers
        if headers.values("content-type").isEmpty {
            headers.append(HTTPField("Content-Type", "text/plain; charset=utf-8"))
        }
        self.init(status: status, headers: headers, body: Array((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// The values of the header `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] { headers.values(name) }

    /// The standard reason phrase for `status` (RFC 9110), or `Status N` for one not listed.
    public static func reasonPhrase(_ status: Int) -> String { HTTPResponseHead.reasonPhrase(status) }
}
