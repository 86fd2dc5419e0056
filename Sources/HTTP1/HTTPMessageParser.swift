/// The state machine both parsers share: lines (CR LF only, bounded), header fields, Content-Length and chunked
/// bodies, and the framing rules that keep two parsers from disagreeing about where a message ends. The start line
/// and the framing decision differ between requests and responses; `HTTPRequestParser` and `HTTPResponseParser`
/// are the public faces.
struct HTTPMessageParser {
    enum Kind { case request, response }

    enum Event {
        case requestHead(HTTPRequestHead)
        case responseHead(HTTPResponseHead)
        case body(UnsafeRawBufferPointer)
        case end
    }

    private enum State {
        case startLine
        case headers
        case body(remaining: UInt64)
        case untilClose
        case chunkSize
        case chunkData(remaining: UInt64)
        case chunkDataEnd
        case trailers
        /// After a 101 response: the bytes that follow are another protocol's.
        case upgraded
    }

    let kind: Kind
    let limits: HTTPLimits
    private var state = State.startLine
    private var line: [UInt8] = []
    private var sawCR = false
    private var version = HTTPVersion.http11
    private var method = ""
    private var target = ""
    private var status = 0
    private var reasonPhrase = ""
    private var headers: [HTTPField] = []
    private var headerBytes = 0
    private var bodyBytes: UInt64 = 0
    private var emptyLinesBeforeStart = 0
    /// Response parsing: the method of the request being answered (a HEAD response has no body).
    var requestMethod = "GET"
    /// Set when an `.end` was just emitted, so a caller that asked to stop there can.
    private var ended = false
    private(set) var failed = false

    init(kind: Kind, limits: HTTPLimits) {
        self.kind = kind
        self.limits = limits
    }

    /// Whether the parser sits between messages (nothing of the next one read yet).
    var isBetweenMessages: Bool {
        if case .startLine = state { return line.isEmpty && !sawCR }
        return false
    }

    /// Parses `bytes`, reporting events to `emit`; returns how many bytes it consumed: all of them, or fewer when
    /// `stopAfterEnd` is set and a message ended (or a 101 response's head was read) before the last byte.
    mutating func parse(
        _ bytes: UnsafeRawBufferPointer, stopAfterEnd: Bool, _ emit: (Event) throws -> Void
    ) throws -> Int {
        guard !failed else { throw HTTPParseError(.badRequestLine, "the connection already failed to parse") }
        do { return try run(bytes, stopAfterEnd: stopAfterEnd, emit) } catch {
            failed = true
            throw error
        }
    }

    /// The peer closed: ends a body delimited by the close, and fails if a message was cut short.
    mutating func finish(_ emit: (Event) throws -> Void) throws {
        switch state {
        case .untilClose:
            state = .startLine
            try emit(.end)
        case .startLine where line.isEmpty && !sawCR, .upgraded:
            break
        default:
            failed = true
            throw HTTPParseError(.truncated, "the connection closed in the middle of a message")
        }
    }

    private mutating func run(
        _ bytes: UnsafeRawBufferPointer, stopAfterEnd: Bool, _ emit: (Event) throws -> Void
    ) throws -> Int {
        var index = 0
        ended = false
        while index < bytes.count {
            if stopAfterEnd, ended { return index }
            switch state {
            case .upgraded:
                return index
            case .untilClose:
                bodyBytes += UInt64(bytes.count - index)
                if let maximum = limits.bodyBytes, bodyBytes > UInt64(maximum) {
                    throw HTTPParseError(.bodyTooLarge, "the body is larger than \(maximum) bytes")
                }
                try emit(.body(UnsafeRawBufferPointer(rebasing: bytes[index...])))
                return bytes.count
            case .body(let remaining):
                let take = Int(min(UInt64(bytes.count - index), remaining))
                try emit(.body(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)])))
                index += take
                if remaining - UInt64(take) == 0 {
                    try end(emit)
                } else {
                    state = .body(remaining: remaining - UInt64(take))
                }
            case .chunkData(let remaining):
                let take = Int(min(UInt64(bytes.count - index), remaining))
                try emit(.body(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)])))
                index += take
                state = remaining - UInt64(take) == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - UInt64(take))
            default:
                // Line-oriented states: collect up to LF, with CR LF required. The bytes up to the next CR, LF or
                // NUL are taken in one piece.
                if sawCR {
                    guard bytes[index] == 0x0A else {
                        throw HTTPParseError(.badLineEnding, "a CR not followed by LF")
                    }
                    index += 1
                    sawCR = false
                    try finishLine(line, emit)
                    line.removeAll(keepingCapacity: true)
                    continue
                }
                var stop = index
                while stop < bytes.count {
                    let byte = bytes[stop]
                    if byte == 0x0D || byte == 0x0A || byte == 0x00 { break }
                    stop += 1
                }
                if stop > index {
                    line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<stop]))
                    try checkLineLength()
                    index = stop
                }
                guard index < bytes.count else { break }
                switch bytes[index] {
                case 0x0D: sawCR = true
                case 0x0A: throw HTTPParseError(.badLineEnding, "a line ends with a bare LF; lines end with CR LF")
                default: throw HTTPParseError(.badLineEnding, "a NUL byte in the message head")
                }
                index += 1
            }
        }
        return index
    }

    private mutating func end(_ emit: (Event) throws -> Void) throws {
        state = .startLine
        ended = true
        try emit(.end)
    }

    private func checkLineLength() throws {
        switch state {
        case .startLine:
            if line.count > limits.requestLine {
                throw HTTPParseError(
                    .uriTooLong,
                    "the \(kind == .request ? "request" : "status") line is longer than \(limits.requestLine) bytes")
            }
        case .headers, .trailers:
            if headerBytes + line.count > limits.headerBytes {
                throw HTTPParseError(.headersTooLarge, "the header section is larger than \(limits.headerBytes) bytes")
            }
        case .chunkSize, .chunkDataEnd:
            if line.count > 1024 { throw HTTPParseError(.badChunk, "a chunk size line is longer than 1024 bytes") }
        default: break
        }
    }

    private mutating func finishLine(_ line: [UInt8], _ emit: (Event) throws -> Void) throws {
        switch state {
        case .startLine:
            if line.isEmpty {
                // RFC 9112 §2.2: empty lines before a request line may be ignored; a few, not an endless stream.
                emptyLinesBeforeStart += 1
                if emptyLinesBeforeStart > 4 || kind == .response {
                    throw HTTPParseError(.badRequestLine, "empty lines instead of a message")
                }
                return
            }
            switch kind {
            case .request: try parseRequestLine(line)
            case .response: try parseStatusLine(line)
            }
            headers = []
            headers.reserveCapacity(16)
            headerBytes = 0
            bodyBytes = 0
            emptyLinesBeforeStart = 0
            state = .headers
        case .headers:
            if line.isEmpty {
                try finishHead(emit)
            } else {
                try parseHeader(line, trailer: false)
            }
        case .chunkSize:
            let size = try HTTPMessageParser.parseChunkSize(line)
            if size == 0 {
                state = .trailers
            } else {
                bodyBytes += size
                if let maximum = limits.bodyBytes, bodyBytes > UInt64(maximum) {
                    throw HTTPParseError(.bodyTooLarge, "the body is larger than \(maximum) bytes")
                }
                state = .chunkData(remaining: size)
            }
        case .chunkDataEnd:
            guard line.isEmpty else { throw HTTPParseError(.badChunk, "chunk data longer than its declared size") }
            state = .chunkSize
        case .trailers:
            if line.isEmpty {
                try end(emit)
            } else {
                try parseHeader(line, trailer: true)
            }
        case .body, .chunkData, .untilClose, .upgraded:
            break
        }
    }

    // MARK: Start lines and headers

    private mutating func parseRequestLine(_ line: [UInt8]) throws {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw HTTPParseError(
                .badRequestLine, "the request line must be METHOD, one space, target, one space, HTTP version")
        }
        guard parts[0].allSatisfy(HTTPSyntax.isTokenByte) else {
            throw HTTPParseError(.badRequestLine, "the method has characters a token cannot have")
        }
        guard parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw HTTPParseError(.badRequestLine, "the request target has spaces or control characters")
        }
        version = try HTTPMessageParser.version(parts[2])
        method = String(decoding: parts[0], as: UTF8.self)
        target = String(decoding: parts[1], as: UTF8.self)
    }

    private mutating func parseStatusLine(_ line: [UInt8]) throws {
        // HTTP-version SP 3DIGIT SP [reason-phrase]
        guard line.count >= 12, line[8] == 0x20, line.count == 12 || line[12] == 0x20,
            line[9..<12].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else {
            throw HTTPParseError(.badRequestLine, "the status line must be HTTP version, space, 3-digit status")
        }
        version = try HTTPMessageParser.version(line[0..<8])
        status = Int(String(decoding: line[9..<12], as: UTF8.self)) ?? 0
        guard status >= 100 else { throw HTTPParseError(.badRequestLine, "a status below 100") }
        let reason = line.count > 13 ? line[13...] : []
        guard reason.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw HTTPParseError(.badRequestLine, "the reason phrase has control characters")
        }
        reasonPhrase = String(decoding: reason, as: UTF8.self)
    }

    private static func version(_ bytes: ArraySlice<UInt8>) throws -> HTTPVersion {
        let text = String(decoding: bytes, as: UTF8.self)
        switch text {
        case "HTTP/1.1": return .http11
        case "HTTP/1.0": return .http10
        default:
            if text.hasPrefix("HTTP/") {
                throw HTTPParseError(.unsupportedVersion, "\(text.prefix(16)) is not spoken here; use HTTP/1.1")
            }
            throw HTTPParseError(.badRequestLine, "the start line does not have an HTTP version where it should")
        }
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
        guard !name.isEmpty, name.allSatisfy(HTTPSyntax.isTokenByte) else {
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
            throw HTTPParseError(.headersTooLarge, "more than \(limits.headerCount) header fields")
        }
        headers.append(HTTPField(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }

    private mutating func finishHead(_ emit: (Event) throws -> Void) throws {
        var contentLengths: [String] = []
        var transferEncodings: [String] = []
        var hosts = 0
        for field in headers {
            switch field.lowercasedName {
            case "content-length": contentLengths.append(field.value)
            case "transfer-encoding": transferEncodings.append(field.value)
            case "host": hosts += 1
            default: break
            }
        }
        if !contentLengths.isEmpty, !transferEncodings.isEmpty {
            throw HTTPParseError(.ambiguousFraming, "both Content-Length and Transfer-Encoding; send one")
        }
        let declared = try HTTPMessageParser.declaredFraming(
            contentLengths: contentLengths, transferEncodings: transferEncodings, version: version, limits: limits)
        switch kind {
        case .request:
            if version == .http11, hosts != 1 {
                throw HTTPParseError(
                    .badHost, hosts == 0 ? "an HTTP/1.1 request needs a Host header" : "more than one Host header")
            }
            if version == .http10, hosts > 1 { throw HTTPParseError(.badHost, "more than one Host header") }
            let framing: HTTPFraming = declared ?? .none
            try emit(
                .requestHead(
                    HTTPRequestHead(
                        method: method, target: target, version: version, headers: headers, framing: framing)))
            try startBody(framing, emit)
        case .response:
            let framing: HTTPFraming
            if status < 200 || status == 204 || status == 304 || requestMethod == "HEAD" {
                framing = .none
            } else {
                framing = declared ?? .untilClose
            }
            try emit(
                .responseHead(
                    HTTPResponseHead(
                        version: version, status: status, reason: reasonPhrase, headers: headers, framing: framing)))
            if status == 101 {
                state = .upgraded
                ended = true
            } else if status < 200 {
                state = .startLine  // an interim response; the final one follows
            } else {
                try startBody(framing, emit)
            }
        }
    }

    private mutating func startBody(_ framing: HTTPFraming, _ emit: (Event) throws -> Void) throws {
        switch framing {
        case .none: try end(emit)
        case .contentLength(let length): state = .body(remaining: length)
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
    }

    /// The framing the headers declare, nil when they declare none.
    private static func declaredFraming(
        contentLengths: [String], transferEncodings: [String], version: HTTPVersion, limits: HTTPLimits
    ) throws -> HTTPFraming? {
        if !transferEncodings.isEmpty {
            guard version == .http11 else {
                throw HTTPParseError(.badTransferEncoding, "Transfer-Encoding in an HTTP/1.0 message")
            }
            let codings = transferEncodings.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
                .map { HTTPSyntax.trimmed($0) }
            guard let last = codings.last, last.lowercased() == "chunked",
                codings.dropLast().allSatisfy({
                    !$0.isEmpty && $0.lowercased() != "chunked" && $0.utf8.allSatisfy(HTTPSyntax.isTokenByte)
                })
            else {
                throw HTTPParseError(
                    .badTransferEncoding, "Transfer-Encoding must be a list of codings ending with a single chunked")
            }
            return .chunked
        }
        guard !contentLengths.isEmpty else { return nil }
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
            throw HTTPParseError(.bodyTooLarge, "the body is larger than \(maximum) bytes")
        }
        return length == 0 ? HTTPFraming.none : .contentLength(length)
    }

    private static func parseChunkSize(_ line: [UInt8]) throws -> UInt64 {
        var digits = line[...]
        if let semicolon = line.firstIndex(of: 0x3B) {
            digits = line[..<semicolon]
            let extensions = line[(semicolon + 1)...]
            guard extensions.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw HTTPParseError(.badChunk, "a chunk extension has control characters")
            }
            while let last = digits.last, last == 0x20 || last == 0x09 { digits = digits.dropLast() }
        }
        guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(HTTPSyntax.isHexByte),
            let size = UInt64(String(decoding: digits, as: UTF8.self), radix: 16)
        else {
            throw HTTPParseError(.badChunk, "a chunk size must be 1 to 15 hexadecimal digits")
        }
        return size
    }
}
