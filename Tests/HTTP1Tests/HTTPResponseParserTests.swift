import HTTP1
import Testing

/// A response stream parsed whole or in `chunk`-byte pieces, with what the parser reported.
private struct ParsedResponse {
    var heads: [HTTPResponseHead] = []
    var bodies: [[UInt8]] = []
    var ends = 0
    var consumed = 0
    var error: HTTPParseError?

    init(_ text: String, method: String = "GET", chunk: Int = .max, close: Bool = false) {
        var parser = HTTPResponseParser()
        parser.requestMethod = method
        let bytes = Array(text.utf8)
        var offset = 0
        do {
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunk)
                let used = try bytes[offset..<end].withUnsafeBytes { piece in
                    try parser.parse(piece) { handle($0) }
                }
                offset += used
                consumed = offset
                if used < end - offset + used, ends > 0 || heads.last?.status == 101 { break }
            }
            if close { try parser.finish { handle($0) } }
        } catch let caught as HTTPParseError {
            error = caught
        } catch {}

        func handle(_ event: HTTPResponseParser.Event) {
            switch event {
            case .head(let head):
                heads.append(head)
                bodies.append([])
            case .body(let piece): bodies[bodies.count - 1] += Array(piece)
            case .end: ends += 1
            }
        }
    }

    var body: String { String(decoding: bodies.last ?? [], as: UTF8.self) }
}

@Suite("HTTP/1.1 response parser")
struct HTTPResponseParserTests {
    @Test("Content-Length and chunked bodies, whole and byte by byte")
    func framedBodies() {
        for chunk in [Int.max, 1] {
            let fixed = ParsedResponse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", chunk: chunk)
            #expect(fixed.heads.first?.status == 200 && fixed.body == "hello" && fixed.ends == 1)
            let chunked = ParsedResponse(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6; x=y\r\n world\r\n0\r\nT: v\r\n\r\n",
                chunk: chunk)
            #expect(chunked.body == "hello world" && chunked.ends == 1 && chunked.error == nil)
            #expect(chunked.heads.first?.framing == .chunked)
        }
    }

    @Test("parsing stops after each final response, so the next one waits for its request")
    func stopsAfterEachResponse() {
        let two = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"
        let parsed = ParsedResponse(two)
        #expect(parsed.ends == 1)
        #expect(parsed.consumed == two.utf8.count / 2)
    }

    @Test("no body for HEAD, 204, 304 and interim responses; 100 Continue is followed by the final response")
    func bodilessResponses() {
        let head = ParsedResponse("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", method: "HEAD")
        #expect(head.ends == 1 && head.heads.first?.framing == HTTPFraming.none)
        #expect(ParsedResponse("HTTP/1.1 204 No Content\r\n\r\n").ends == 1)
        #expect(ParsedResponse("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").ends == 1)
        let interim = ParsedResponse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
        #expect(interim.heads.map(\.status) == [100, 201] && interim.body == "ok" && interim.ends == 1)
    }

    @Test("a 101 stops the parser at the end of its head: what follows belongs to the new protocol")
    func upgrade() {
        let text = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u{1}\u{2}raw"
        let parsed = ParsedResponse(text)
        #expect(parsed.heads.first?.status == 101)
        #expect(parsed.consumed == text.utf8.count - 5)
    }

    @Test("a body without framing ends with the connection; a cut-short framed body is an error")
    func closeDelimited() {
        let open = ParsedResponse("HTTP/1.1 200 OK\r\n\r\nuntil the end", close: true)
        #expect(open.body == "until the end" && open.ends == 1 && open.heads.first?.keepAlive == false)
        let cut = ParsedResponse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", close: true)
        #expect(cut.error?.code == .truncated)
    }

    @Test(
        "responses are held to the same framing rules as requests",
        arguments: [
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                HTTPParseError.Code.ambiguousFraming
            ),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", .ambiguousFraming),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", .badTransferEncoding),
            ("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", .obsoleteLineFolding),
            ("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", .badHeader),
            ("HTTP/1.1 200 OK\nContent-Length: 0\n\n", .badLineEnding),
            ("HTTP/1.1 2000 OK\r\n\r\n", .badRequestLine),
            ("HTTP/1.1 20 OK\r\n\r\n", .badRequestLine),
            ("HTTP/2 200 OK\r\n\r\n", .badRequestLine),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .badChunk),
        ])
    func malformed(text: String, code: HTTPParseError.Code) {
        #expect(ParsedResponse(text).error?.code == code, "\(text.debugDescription)")
        #expect(ParsedResponse(text, chunk: 1).error?.code == code, "byte by byte: \(text.debugDescription)")
    }

    @Test("a built response encodes and parses back")
    func simpleResponse() {
        let bytes = HTTPResponseHead.simple(status: 403, text: "symbolon: forbidden", closing: true)
        let parsed = ParsedResponse(String(decoding: bytes, as: UTF8.self))
        #expect(parsed.heads.first?.status == 403 && parsed.heads.first?.reason == "Forbidden")
        #expect(parsed.body == "symbolon: forbidden\n" && parsed.heads.first?.keepAlive == false)
    }
}

@Suite("HTTP/1.1 request parser, one request at a time")
struct HTTPRequestParserStoppingTests {
    @Test("stopAfterEnd returns at the end of each pipelined request; the rest parses on the next call")
    func pipelined() throws {
        let bytes = Array(
            "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi".utf8)
        var parser = HTTPRequestParser()
        var targets: [String] = []
        var offset = 0
        var calls = 0
        while offset < bytes.count, calls < 10 {
            calls += 1
            offset += try bytes[offset...].withUnsafeBytes { piece in
                try parser.parse(piece, stopAfterEnd: true) { event in
                    if case .head(let head) = event { targets.append(head.target) }
                }
            }
            #expect(parser.isBetweenRequests)
        }
        #expect(targets == ["/a", "/b"] && calls == 2)
    }

    @Test("a client closing mid-request is an error; between requests it is not")
    func finish() throws {
        var parser = HTTPRequestParser()
        try Array("GET / HTTP/1.1\r\nHo".utf8).withUnsafeBytes { _ = try parser.parse($0) { _ in } }
        #expect(throws: HTTPParseError.self) { try parser.finish() }
        var idle = HTTPRequestParser()
        try idle.finish()
    }
}
