/// A parsed or built status line and header section.
public struct HTTPResponseHead: Sendable {
    public let version: HTTPVersion
    public let status: Int
    public let reason: String
    public var headers: [HTTPField]
    /// How the body is delimited (decided by the parser, or by whoever builds the head).
    public let framing: HTTPFraming

    public init(
        version: HTTPVersion = .http11, status: Int, reason: String? = nil, headers: [HTTPField] = [],
        framing: HTTPFraming
    ) {
        self.version = version
        self.status = status
        self.reason = reason ?? HTTPResponseHead.reasonPhrase(status)
        self.headers = headers
        self.framing = framing
    }

    /// The values of `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] { headers.values(name) }

    /// Whether the sender keeps the connection open after this response.
    public var keepAlive: Bool { keepAlive(connectionTokens: HTTPSyntax.connectionTokens(headers)) }

    /// `keepAlive`, from the `Connection` tokens already at hand.
    public func keepAlive(connectionTokens tokens: [String]) -> Bool {
        if framing == .untilClose { return false }
        switch version {
        case .http11: return !tokens.contains("close")
        case .http10: return tokens.contains("keep-alive")
        }
    }

    /// The head as sent on the wire.
    public func encoded() -> [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }

    /// Appends the head as sent on the wire to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        buffer.append(contentsOf: version.rawValue.utf8)
        buffer.append(0x20)
        buffer.append(contentsOf: String(status).utf8)
        buffer.append(0x20)
        buffer.append(contentsOf: reason.utf8)
        buffer.append(0x0D)
        buffer.append(0x0A)
        headers.encode(into: &buffer)
    }

    /// A short complete response the proxy itself sends (an error, a refusal): `text` and a newline as the body,
    /// and `Connection: close` when `closing`.
    public static func simple(status: Int, text: String, closing: Bool) -> [UInt8] {
        let body = Array((text + "\n").utf8)
        var headers = [
            HTTPField("Content-Type", "text/plain; charset=utf-8"), HTTPField("Content-Length", String(body.count)),
        ]
        if closing { headers.append(HTTPField("Connection", "close")) }
        return HTTPResponseHead(status: status, headers: headers, framing: .contentLength(UInt64(body.count)))
            .encoded() + body
    }

    /// The standard reason phrase for `status` (RFC 9110), or `Status N` for one not listed.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 411: return "Length Required"
        case 412: return "Precondition Failed"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }
}
