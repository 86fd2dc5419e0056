/// A strict, streaming HTTP/1.1 response parser, the request parser's twin (same line, header and chunk rules).
///
/// Tell it the method of the request each response answers (`requestMethod`: a HEAD response has no body). It
/// reports interim (1xx) heads, then the final head, the body in pieces and the end; parsing stops after each final
/// response and after a `101 Switching Protocols` head (the bytes after it belong to the new protocol). A body with
/// neither Content-Length nor chunked framing ends when the connection closes: call `finish()` on EOF.
public struct HTTPResponseParser {
    public enum Event {
        case head(HTTPResponseHead)
        case body(UnsafeRawBufferPointer)
        case end
    }

    private var core: HTTPMessageParser
    public var failed: Bool { core.failed }

    /// The method of the request the next response answers.
    public var requestMethod: String {
        get { core.requestMethod }
        set { core.requestMethod = newValue }
    }

    public init(limits: HTTPLimits = HTTPLimits()) { core = HTTPMessageParser(kind: .response, limits: limits) }

    /// Parses `bytes` up to the end of one final response; returns the number of bytes consumed.
    @discardableResult
    public mutating func parse(_ bytes: UnsafeRawBufferPointer, _ emit: (Event) throws -> Void) throws -> Int {
        try core.parse(bytes, stopAfterEnd: true) { event in
            switch event {
            case .responseHead(let head): try emit(.head(head))
            case .body(let bytes): try emit(.body(bytes))
            case .end: try emit(.end)
            case .requestHead: break
            }
        }
    }

    /// The server closed: ends a close-delimited body; fails when a response was cut short.
    public mutating func finish(_ emit: (Event) throws -> Void) throws {
        try core.finish { event in
            if case .end = event { try emit(.end) }
        }
    }
}
