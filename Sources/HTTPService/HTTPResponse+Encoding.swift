import HTTP1

extension HTTPResponse {
    /// Fields the server writes itself; a handler's copies are dropped.
    static let framingFields: Set<String> = ["content-length", "transfer-encoding", "connection", "keep-alive"]

    /// Why this response cannot be sent as given, or nil when it can.
    var problem: String? {
        guard (200...599).contains(status) else {
            return "the handler answered with status \(status); a handler's status must be 200 to 599"
        }
        if let reason, !reason.utf8.allSatisfy(HTTPResponse.isFieldValueByte) {
            return "the handler's reason phrase has control characters"
        }
        for field in headers {
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(HTTPSyntax.isTokenByte) else {
                return "the handler's header name \"\(field.name.prefix(40))\" is not a token"
            }
            guard field.value.utf8.allSatisfy(HTTPResponse.isFieldValueByte) else {
                return "the handler's header \(field.name) has a value with CR, LF, NUL or another control character"
            }
        }
        return nil
    }

    /// Visible characters, space, tab and obs-text: what a field value or reason phrase may hold.
    static func isFieldValueByte(_ byte: UInt8) -> Bool { byte == 0x09 || (byte >= 0x20 && byte != 0x7F) }

    /// The response on the wire for a request with `method`: head (with `Content-Length`, `Date`, `Connection`)
    /// and, unless the request was `HEAD` or the status has no body, the body. The response must have no
    /// `problem`.
    func encoded(requestMethod: String, closing: Bool, keepAliveHeader: Bool, date: String) -> [UInt8] {
        var fields = headers.removing(HTTPResponse.framingFields)
        let bodiless = status == 204 || status == 304
        if !bodiless { fields.append(HTTPField("Content-Length", String(body.count))) }
        if fields.values("date").isEmpty { fields.append(HTTPField("Date", date)) }
        if closing {
            fields.append(HTTPField("Connection", "close"))
        } else if keepAliveHeader {
            fields.append(HTTPField("Connection", "keep-alive"))
        }
        let head = HTTPResponseHead(
            status: status, reason: reason ?? HTTPResponse.reasonPhrase(status), headers: fields,
            framing: bodiless ? .none : .contentLength(UInt64(body.count)))
        var bytes = head.encoded()
        if !bodiless, requestMethod != "HEAD" { bytes += body }
        return bytes
    }
}
