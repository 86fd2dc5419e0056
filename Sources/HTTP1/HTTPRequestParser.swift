/// A strict, streaming HTTP/1.1 request parser: a pure state machine over bytes (no sockets, no clock).
///
/// Feed it whatever arrived; it reports the head of each request, the body in pieces as they come (never buffered
/// whole), and the end of each request, then goes on with the next one (pipelining). Anything that would let two
/// parsers disagree about where a request ends — the root of request smuggling — is refused with an
/// `HTTPParseError`: both Content-Length and Transfer-Encoding, repeated Content-Length, a Transfer-Encoding that is
/// not a list ending in a single `chunked`, obsolete line folding, whitespace before a colon, bare CR or LF, NUL and
/// other control characters, malformed chunk sizes. After an error the connection must be answered (the error's
/// `status`) and closed.
public struct HTTPRequestParser {
    /// What the parser found, in order.
    public enum Event {
        case head(HTTPRequestHead)
        /// A piece of the current request's body (valid only during the call).
        case body(UnsafeRawBufferPointer)
        /// The current request is complete.
        case end
    }

    private var core: HTTPMessageParser
    public var limits: HTTPLimits { core.limits }
    /// Set after an error: the stream cannot be parsed any further.
    public var failed: Bool { core.failed }
    /// Nothing of a next request has been read.
    public var isBetweenRequests: Bool { core.isBetweenMessages }

    public init(limits: HTTPLimits = HTTPLimits()) { core = HTTPMessageParser(kind: .request, limits: limits) }

    /// Parses `bytes`, reporting events to `emit` as they are found. With `stopAfterEnd`, parsing stops right
    /// after a request ends, so a server can answer it before reading the next (pipelining); the return value is
    /// the number of bytes consumed, and the caller feeds the rest again later.
    @discardableResult
    public mutating func parse(
        _ bytes: UnsafeRawBufferPointer, stopAfterEnd: Bool = false, _ emit: (Event) throws -> Void
    ) throws -> Int {
        try core.parse(bytes, stopAfterEnd: stopAfterEnd) { event in
            switch event {
            case .requestHead(let head): try emit(.head(head))
            case .body(let bytes): try emit(.body(bytes))
            case .end: try emit(.end)
            case .responseHead: break
            }
        }
    }

    /// The client closed: fails when a request was cut short.
    public mutating func finish() throws { try core.finish { _ in } }
}
