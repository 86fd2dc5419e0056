/// Bounds on what a request may contain. A request past any of them is refused (400, or 413 for the body) before
/// it is buffered, so a hostile client cannot make the parser hold more than these.
public struct HTTPLimits: Sendable {
    /// Longest request line, bytes.
    public var requestLine: Int
    /// Most header fields.
    public var headerCount: Int
    /// Most bytes of all header lines together.
    public var headerBytes: Int
    /// Largest body; nil for no limit (bodies are streamed, never held whole).
    public var bodyBytes: Int?

    public init(
        requestLine: Int = 8 * 1024, headerCount: Int = 100, headerBytes: Int = 32 * 1024, bodyBytes: Int? = nil
    ) {
        self.requestLine = requestLine
        self.headerCount = headerCount
        self.headerBytes = headerBytes
        self.bodyBytes = bodyBytes
    }
}
