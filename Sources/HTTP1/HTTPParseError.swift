/// Why a request was refused by the parser: a growable code and a reason a client developer can act on. Every
/// parse error means "answer 400 and close the connection": after one, the byte stream's framing is unknown.
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
        /// A configured limit was exceeded (line, header count, header bytes, body).
        public static let tooLarge = Code("tooLarge")
        /// Only HTTP/1.0 and HTTP/1.1 are spoken.
        public static let unsupportedVersion = Code("unsupportedVersion")
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }
}
