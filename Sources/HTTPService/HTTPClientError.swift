/// Why an `HTTPClient.send` failed: a growable code, a reason that says what went wrong and what to do, and the
/// underlying error (a `NetError`, `TLSError` or `HTTPParseError`) when there is one.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// A category of client failure. New codes may be added; match on the ones you handle.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name, as logs show it.
        public let name: String
        /// A code with this name; prefer the static members.
        public init(_ name: String) { self.name = name }
        /// The code's name.
        public var description: String { name }

        /// Nothing accepts connections at the address.
        public static let connectionRefused = Code("connectionRefused")
        /// The connection could not be made for another reason (unreachable, out of descriptors …).
        public static let connectFailed = Code("connectFailed")
        /// The TLS handshake failed or the server refused us in it; the reason carries TLS's.
        public static let tlsFailed = Code("tlsFailed")
        /// No complete response within the time allowed (connect, handshake, request and response together).
        public static let timedOut = Code("timedOut")
        /// The response broke HTTP/1.1's rules (the parser's reason says which).
        public static let malformedResponse = Code("malformedResponse")
        /// The response body is larger than the client's limit.
        public static let bodyTooLarge = Code("bodyTooLarge")
        /// The server closed the connection before the response was complete.
        public static let connectionClosed = Code("connectionClosed")
        /// The request cannot be sent as given (a bad method, target or header); nothing was sent.
        public static let invalidRequest = Code("invalidRequest")
        /// The calling task was cancelled.
        public static let cancelled = Code("cancelled")
    }

    /// What kind of failure.
    public let code: Code
    /// What went wrong and, where we know, what to do.
    public let reason: String
    /// The error underneath, when there is one.
    public let underlying: (any Error)?

    /// An error of `code` with `reason`, wrapping `underlying`.
    public init(_ code: Code, _ reason: String, underlying: (any Error)? = nil) {
        self.code = code
        self.reason = reason
        self.underlying = underlying
    }

    /// `code: reason`.
    public var description: String { "\(code): \(reason)" }
}
