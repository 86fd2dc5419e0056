/// Why a request was refused by the parser: a growable code and a reason a client developer can act on. Every
/// parse error means "answer `status` (mostly 400) and close the connection": after one, the byte stream's framing is unknown.
public struct HTTPParseError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The request line is not `METHOD SP target SP HTTP/1.x CRLF`.
        public static let badRequestLine = Code("badRequestLine")
        /// A header line is malformed (no colon, whitespace before the colon, bad name or value characters).
        public static let badHeader = Code("badHeader")
        /// A header line starts with whitespace (obsolete line folding).
        public static let obsoleteLineFolding = Code("obsoleteLineFolding")
        /// CR not followed by LF, LF without CR, or NUL.
        public static let badLineEnding = Code("badLineEnding")
        /// The body's length is ambiguous: Content-Length and Transfer-Encoding, or several Content-Length values.
        public static let ambiguousFraming = Code("ambiguousFraming")
        /// Content-Length is not a plain decimal number.
        public static let badContentLength = Code("badContentLength")
        /// Transfer-Encoding is not a list ending with a single `chunked`.
        public static let badTransferEncoding = Code("badTransferEncoding")
        /// A chunk size line is malformed or too large.
        public static let badChunk = Code("badChunk")
        /// Missing or repeated Host in HTTP/1.1.
        public static let badHost = Code("badHost")
        /// The request line is longer than the limit (414).
        public static let uriTooLong = Code("uriTooLong")
        /// Too many header fields, or too many header bytes (431).
        public static let headersTooLarge = Code("headersTooLarge")
        /// The body is larger than the limit (413).
        public static let bodyTooLarge = Code("bodyTooLarge")
        /// The connection closed in the middle of a message.
        public static let truncated = Code("truncated")
        /// Only HTTP/1.0 and HTTP/1.1 are spoken (505).
        public static let unsupportedVersion = Code("unsupportedVersion")
        /// The request target is one that backends could read differently (dot segments, encoded slashes).
        public static let ambiguousPath = Code("ambiguousPath")
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }

    /// The status a server answers this error with before closing the connection.
    public var status: Int {
        switch code {
        case .uriTooLong: return 414
        case .headersTooLarge: return 431
        case .bodyTooLarge: return 413
        case .unsupportedVersion: return 505
        default: return 400
        }
    }
}
