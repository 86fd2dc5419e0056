import HTTP1

/// A request for `HTTPClient.send`: method, target, header fields and a whole body.
///
/// The client writes the framing itself: `Content-Length` (for a body, or for POST/PUT/PATCH without one),
/// `Connection: close` (one request per connection), and `Host` unless you set one. Setting `Content-Length`,
/// `Transfer-Encoding` or `Connection` yourself is refused (`invalidRequest`) rather than guessed at.
public struct HTTPClientRequest: Sendable {
    /// `GET`, `POST` … (a token).
    public var method: String
    /// Origin form: `/path?query`, percent-encoded as it should go on the wire.
    public var target: String
    /// Header fields, sent in order after `Host`.
    public var headers: [HTTPField]
    /// Sent whole with `Content-Length`.
    public var body: [UInt8]

    /// A request; by default `GET /` without a body.
    public init(method: String = "GET", target: String = "/", headers: [HTTPField] = [], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// A request with a UTF-8 text body.
    public init(method: String = "POST", target: String, headers: [HTTPField] = [], text: String) {
        self.init(method: method, target: target, headers: headers, body: Array(text.utf8))
    }

    /// The request on the wire, with `host` as the Host header unless one was set; or why it cannot be sent.
    func encoded(host: String) throws(HTTPClientError) -> [UInt8] {
        func invalid(_ why: String) -> HTTPClientError { HTTPClientError(.invalidRequest, why) }
        guard !method.isEmpty, method.utf8.allSatisfy(HTTPSyntax.isTokenByte) else {
            throw invalid("the method \"\(method.prefix(40))\" is not a token; use GET, POST …")
        }
        guard target.hasPrefix("/") || (target == "*" && method == "OPTIONS"),
            target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            throw invalid(
                "the target \"\(target.prefix(80))\" must start with / and hold no spaces or control characters "
                    + "(percent-encode them)")
        }
        for field in headers {
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(HTTPSyntax.isTokenByte) else {
                throw invalid("the header name \"\(field.name.prefix(40))\" is not a token")
            }
            guard field.value.utf8.allSatisfy(HTTPResponse.isFieldValueByte) else {
                throw invalid("the header \(field.name) has a value with CR, LF, NUL or another control character")
            }
            if ["content-length", "transfer-encoding", "connection"].contains(field.lowercasedName) {
                throw invalid("do not set \(field.name): the client frames the body and closes after one request")
            }
        }
        var fields = headers
        if fields.values("host").isEmpty { fields.insert(HTTPField("Host", host), at: 0) }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) {
            fields.append(HTTPField("Content-Length", String(body.count)))
        }
        fields.append(HTTPField("Connection", "close"))
        let head = HTTPRequestHead(
            method: method, target: target, version: .http11, headers: fields,
            framing: body.isEmpty ? .none : .contentLength(UInt64(body.count)))
        return head.encoded() + body
    }
}
