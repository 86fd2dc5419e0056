/// A strict, streaming HTTP/1.1 request parser: a pure state machine over bytes (no sockets, no clock).
///
/// Feed it whatever arrived; it reports the head of each request, the body in pieces as they come (never buffered
/// whole), and the end of each request, then goes on with the next one (pipelining). Anything that would let two
/// parsers disagree about where a request ends — the root of request smuggling — is refused with an
/// `HTTPParseError`: both Content-Length and Transfer-Encoding, repeated Content-Length, a Transfer-Encoding that is
/// not a list ending in a single `chunked`, obsolete line folding, whitespace before a colon, bare CR or LF, NUL and
/// other control characters, malformed chunk sizes. After an error the connection must be answered 400 and closed.
public struct HTTPRequestParser {
    /// What the parser found, in order.
    public enum Event {
        case head(HTTPRequestHead)
        /// A piece of the current request's body (valid only during the call).
        case body(UnsafeRawBufferPointer)
        /// The current request is complete.
        case end
    }

    private enum State {
        case requestLine
        case headers
        case body(remaining: UInt64)
        case chunkSize
        case chunkData(remaining: UInt64)
        case chunkDataEnd
        case trailers
    }

    public let limits: HTTPLimits
    private var state = State.requestLine
    /// The line being assembled (bounded by the limits).
    private var line: [UInt8] = []
    private var sawCR = false
    private var method = ""
    private var target = ""
    private var version = HTTPRequestHead.Version.http11
    private var headers: [(name: String, value: String)] = []
    private var headerBytes = 0
    private var bodyBytes: UInt64 = 0
    private var emptyLinesBeforeRequest = 0
    /// Set after an error: the stream cannot be parsed any further.
    public private(set) var failed = false

    public init(limits: HTTPLimits = HTTPLimits()) { self.limits = limits }

    /// Parses `bytes`, reporting events to `emit` as they are found.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer, _ emit: (Event) throws -> Void) throws {
        guard !failed else { throw HTTPParseError(.badRequestLine, "the connection already failed to parse") }
        do { try run(bytes, emit) } catch {
            failed = true
            throw error
        }
    }

    private mutating func run(_ bytes: UnsafeRawBufferPointer, _ emit: (Event) throws -> Void) throws {
        var index = 0
        while index < bytes.count {
            switch state {
            case .body(let remaining):
                let take = Int(min(UInt64(bytes.count - index), remaining))
                try emit(.body(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)])))
                index += take
                if remaining - UInt64(take) == 0 {
                    state = .requestLine
                    try emit(.end)
                } else {
                    state = .body(remaining: remaining - UInt64(take))
                }
            case .chunkData(let remaining):
                let take = Int(min(UInt64(bytes.count - index), remaining))
                try emit(.body(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)])))
                index += take
                state = remaining - UInt64(take) == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - UInt64(take))
            default:
                // Line-oriented states: collect up to LF, with CR LF required.
                let byte = bytes[index]
                index += 1
                if sawCR {
                    guard byte == 0x0A else { throw HTTPParseError(.badLineEnding, "a CR not followed by LF") }
                    sawCR = false
                    let complete = line
                    line.removeAll(keepingCapacity: true)
                    try finishLine(complete, emit)
                    continue
                }
                switch byte {
                case 0x0D: sawCR = true
                case 0x0A: throw HTTPParseError(.badLineEnding, "a line ends with a bare LF; lines end with CR LF")
                case 0x00: throw HTTPParseError(.badLineEnding, "a NUL byte in the request head")
                default:
                    line.append(byte)
                    try checkLineLength()
                }
            }
        }
    }

    private func checkLineLength() throws {
        switch state {
        case .requestLine:
            if line.count > limits.requestLine {
                throw HTTPParseError(.tooLarge, "the request line is longer than \(limits.requestLine) bytes")
            }
        case .headers, .trailers:
            if headerBytes + line.count > limits.headerBytes {
                throw HTTPParseError(.tooLarge, "the header section is larger than \(limits.headerBytes) bytes")
            }
        case .chunkSize, .chunkDataEnd:
            if line.count > 1024 { throw HTTPParseError(.badChunk, "a chunk size line is longer than 1024 bytes") }
        default: break
        }
    }

    private mutating func finishLine(_ line: [UInt8], _ emit: (Event) throws -> Void) throws {
        switch state {
        case .requestLine:
            if line.isEmpty {
                // RFC 9112 §2.2: empty lines before a request line may be ignored; a few, not an endless stream.
                emptyLinesBeforeRequest += 1
                if emptyLinesBeforeRequest > 4 {
                    throw HTTPParseError(.badRequestLine, "empty lines instead of a request")
                }
                return
            }
            try parseRequestLine(line)
            state = .headers
        case .headers:
            if line.isEmpty {
                try finishHead(emit)
            } else {
                try parseHeader(line, trailer: false)
            }
        case .chunkSize:
            let size = try parseChunkSize(line)
            if size == 0 {
                state = .trailers
            } else {
                bodyBytes += size
                if let maximum = limits.bodyBytes, bodyBytes > UInt64(maximum) {
                    throw HTTPParseError(.tooLarge, "the body is larger than \(maximum) bytes")
                }
                state = .chunkData(remaining: size)
            }
        case .chunkDataEnd:
            guard line.isEmpty else { throw HTTPParseError(.badChunk, "chunk data longer than its declared size") }
            state = .chunkSize
        case .trailers:
            if line.isEmpty {
                state = .requestLine
                try emit(.end)
            } else {
                try parseHeader(line, trailer: true)
            }
        case .body, .chunkData:
            break
        }
    }

    // MARK: Request line and headers

    private mutating func parseRequestLine(_ line: [UInt8]) throws {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw HTTPParseError(
                .badRequestLine, "the request line must be METHOD, one space, target, one space, HTTP version")
        }
        guard parts[0].allSatisfy(HTTPRequestParser.isTokenByte) else {
            throw HTTPParseError(.badRequestLine, "the method has characters a token cannot have")
        }
        guard parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw HTTPParseError(.badRequestLine, "the request target has spaces or control characters")
        }
        let versionText = String(decoding: parts[2], as: UTF8.self)
        switch versionText {
        case "HTTP/1.1": version = .http11
        case "HTTP/1.0": version = .http10
        default:
            if versionText.hasPrefix("HTTP/") {
                throw HTTPParseError(.unsupportedVersion, "\(versionText.prefix(16)) is not spoken here; use HTTP/1.1")
            }
            throw HTTPParseError(.badRequestLine, "the request line does not end with an HTTP version")
        }
        method = String(decoding: parts[0], as: UTF8.self)
        target = String(decoding: parts[1], as: UTF8.self)
        headers = []
        headerBytes = 0
        bodyBytes = 0
        emptyLinesBeforeRequest = 0
    }

    private mutating func parseHeader(_ line: [UInt8], trailer: Bool) throws {
        if line[0] == 0x20 || line[0] == 0x09 {
            throw HTTPParseError(.obsoleteLineFolding, "a header line starts with whitespace (obsolete line folding)")
        }
        guard let colon = line.firstIndex(of: 0x3A) else {
            throw HTTPParseError(.badHeader, "a header line has no colon")
        }
        let name = line[..<colon]
        if let last = name.last, last == 0x20 || last == 0x09 {
            throw HTTPParseError(.badHeader, "whitespace between a header name and its colon")
        }
        guard !name.isEmpty, name.allSatisfy(HTTPRequestParser.isTokenByte) else {
            throw HTTPParseError(.badHeader, "a header name is empty or has characters a token cannot have")
        }
        var value = line[(colon + 1)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw HTTPParseError(.badHeader, "a header value has control characters")
        }
        headerBytes += line.count + 2
        if trailer { return }
        guard headers.count < limits.headerCount else {
            throw HTTPParseError(.tooLarge, "more than \(limits.headerCount) header fields")
        }
        headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }

    private mutating func finishHead(_ emit: (Event) throws -> Void) throws {
        var contentLengths: [String] = []
        var transferEncodings: [String] = []
        var hosts = 0
        for (name, value) in headers {
            switch name.lowercased() {
            case "content-length": contentLengths.append(value)
            case "transfer-encoding": transferEncodings.append(value)
            case "host": hosts += 1
            default: break
            }
        }
        if version == .http11, hosts != 1 {
            throw HTTPParseError(
                .badHost, hosts == 0 ? "an HTTP/1.1 request needs a Host header" : "more than one Host header")
        }
        if version == .http10, hosts > 1 { throw HTTPParseError(.badHost, "more than one Host header") }
        if !contentLengths.isEmpty, !transferEncodings.isEmpty {
            throw HTTPParseError(.ambiguousFraming, "both Content-Length and Transfer-Encoding; send one")
        }
        let framing: HTTPRequestHead.Framing
        if !transferEncodings.isEmpty {
            guard version == .http11 else {
                throw HTTPParseError(.badTransferEncoding, "Transfer-Encoding in an HTTP/1.0 request")
            }
            let codings = transferEncodings.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
                .map {
                    String($0.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
                }
            guard let last = codings.last, last.lowercased() == "chunked",
                codings.dropLast().allSatisfy({
                    !$0.isEmpty && $0.lowercased() != "chunked" && $0.utf8.allSatisfy(HTTPRequestParser.isTokenByte)
                })
            else {
                throw HTTPParseError(
                    .badTransferEncoding, "Transfer-Encoding must be a list of codings ending with a single chunked")
            }
            framing = .chunked
        } else if !contentLengths.isEmpty {
            guard contentLengths.count == 1 else {
                throw HTTPParseError(.ambiguousFraming, "Content-Length appears \(contentLengths.count) times")
            }
            let text = contentLengths[0]
            guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let length = UInt64(text)
            else {
                throw HTTPParseError(.badContentLength, "Content-Length must be a plain decimal number")
            }
            if let maximum = limits.bodyBytes, length > UInt64(maximum) {
                throw HTTPParseError(.tooLarge, "the body is larger than \(maximum) bytes")
            }
            framing = length == 0 ? .none : .contentLength(length)
        } else {
            framing = .none
        }
        try emit(
            .head(HTTPRequestHead(method: method, target: target, version: version, headers: headers, framing: framing))
        )
        switch framing {
        case .none:
            state = .requestLine
            try emit(.end)
        case .contentLength(let length): state = .body(remaining: length)
        case .chunked: state = .chunkSize
        }
    }

    private func parseChunkSize(_ line: [UInt8]) throws -> UInt64 {
        var digits = line[...]
        if let semicolon = line.firstIndex(of: 0x3B) {
            digits = line[..<semicolon]
            let extensions = line[(semicolon + 1)...]
            guard extensions.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw HTTPParseError(.badChunk, "a chunk extension has control characters")
            }
            while let last = digits.last, last == 0x20 || last == 0x09 { digits = digits.dropLast() }
        }
        guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(HTTPRequestParser.isHexByte),
            let size = UInt64(String(decoding: digits, as: UTF8.self), radix: 16)
        else {
            throw HTTPParseError(.badChunk, "a chunk size must be 1 to 15 hexadecimal digits")
        }
        return size
    }

    static func isHexByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }

    /// RFC 9110 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }
}
