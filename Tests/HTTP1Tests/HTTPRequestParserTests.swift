import HTTP1
import Testing

/// What a parse produced: heads, the concatenated body of each request, ends, or the error.
struct Parsed {
    var heads: [HTTPRequestHead] = []
    var bodies: [[UInt8]] = []
    var ends = 0
    var bodyEvents = 0
    var error: HTTPParseError?

    /// Parses `text`, fed in pieces of `chunk` bytes (0: all at once).
    init(_ text: String, chunk: Int = 0, limits: HTTPLimits = HTTPLimits()) {
        var parser = HTTPRequestParser(limits: limits)
        let bytes = Array(text.utf8)
        let size = chunk > 0 ? chunk : max(1, bytes.count)
        var offset = 0
        do {
            while offset < bytes.count {
                let end = min(bytes.count, offset + size)
                _ = try bytes[offset..<end].withUnsafeBytes { piece in
                    try parser.parse(piece) { event in
                        switch event {
                        case .head(let head):
                            heads.append(head)
                            bodies.append([])
                        case .body(let data):
                            bodies[bodies.count - 1] += data
                            bodyEvents += 1
                        case .end: ends += 1
                        }
                    }
                }
                offset = end
            }
        } catch let failure as HTTPParseError {
            error = failure
        } catch {}
    }
}

@Suite("HTTP/1.1 request parser")
struct HTTPRequestParserTests {
    @Test("a GET with Host parses into method, target, version and headers, with no body")
    func simpleGet() {
        let parsed = Parsed("GET /orders?id=7 HTTP/1.1\r\nHost: api.example\r\nAccept: */*\r\n\r\n")
        #expect(parsed.error == nil)
        #expect(parsed.heads.count == 1 && parsed.ends == 1)
        let head = parsed.heads[0]
        #expect(head.method == "GET" && head.target == "/orders?id=7" && head.version == .http11)
        #expect(head.values("host") == ["api.example"])
        #expect(head.framing == .none && head.keepAlive)
    }

    @Test("pipelined requests with Content-Length and chunked bodies parse in order, fed at once or byte by byte")
    func pipelining() {
        let text =
            "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;name=value\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
            + "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        for chunk in [0, 1, 7] {
            let parsed = Parsed(text, chunk: chunk)
            #expect(parsed.error == nil, "chunk \(chunk): \(String(describing: parsed.error))")
            #expect(parsed.heads.map(\.target) == ["/a", "/b", "/c"])
            #expect(parsed.bodies.map { String(decoding: $0, as: UTF8.self) } == ["hello", "abcde", ""])
            #expect(parsed.ends == 3)
            #expect(parsed.heads[1].framing == .chunked)
            #expect(parsed.heads[2].keepAlive == false)
        }
    }

    @Test("a body is handed on in pieces as it arrives, never held whole")
    func streaming() {
        let body = String(repeating: "z", count: 100_000)
        let parsed = Parsed("PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + body, chunk: 4096)
        #expect(parsed.error == nil)
        #expect(parsed.bodies[0].count == 100_000)
        #expect(parsed.bodyEvents >= 24)
    }

    @Test(
        "accepted edge cases: codings before a final chunked, case-insensitive names, OWS around values, empty lines before a request"
    )
    func acceptedEdges() {
        let parsed = Parsed(
            "\r\nPOST / HTTP/1.1\r\nhOsT:   x  \r\nTransfer-Encoding: gzip, Chunked\r\n\r\n1 ;ext\r\na\r\n0\r\n\r\n")
        #expect(parsed.error == nil, "\(String(describing: parsed.error))")
        #expect(parsed.heads.first?.values("host") == ["x"])
        #expect(parsed.bodies.first == Array("a".utf8))
    }

    @Test("Expect: 100-continue and HTTP/1.0 keep-alive are recognised")
    func expectations() {
        let parsed = Parsed("POST /u HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx")
        #expect(parsed.heads.first?.expectsContinue == true)
        let old = Parsed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(old.error == nil && old.heads.first?.keepAlive == true)
        #expect(Parsed("GET / HTTP/1.0\r\n\r\n").heads.first?.keepAlive == false)
    }

    /// The smuggling and malformation suite: each of these must be refused (400 and close), with this code.
    static let refused: [(String, String, HTTPParseError.Code)] = [
        (
            "CL and TE together",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", .ambiguousFraming
        ),
        (
            "TE and CL together",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", .ambiguousFraming
        ),
        (
            "two equal Content-Length",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", .ambiguousFraming
        ),
        (
            "two differing Content-Length",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", .ambiguousFraming
        ),
        ("Content-Length list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc", .badContentLength),
        ("signed Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", .badContentLength),
        ("negative Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", .badContentLength),
        ("hex Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", .badContentLength),
        (
            "huge Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            .badContentLength
        ),
        ("empty Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", .badContentLength),
        ("TE gzip only", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", .badTransferEncoding),
        (
            "TE chunked then gzip", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            .badTransferEncoding
        ),
        (
            "TE chunked twice",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            .badTransferEncoding
        ),
        ("TE misspelt", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunk\r\n\r\n", .badTransferEncoding),
        (
            "TE with a vertical tab", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \u{0B}chunked\r\n\r\n",
            .badHeader
        ),
        (
            "TE empty element", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , chunked\r\n\r\n",
            .badTransferEncoding
        ),
        ("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .badTransferEncoding),
        ("space before the colon", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n", .badHeader),
        ("tab before the colon", "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", .badHeader),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n", .obsoleteLineFolding),
        ("obs-fold with a tab", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\t2\r\n\r\n", .obsoleteLineFolding),
        ("bare CR in a header", "GET / HTTP/1.1\r\nHost: x\rX-A: 1\r\n\r\n", .badLineEnding),
        ("bare LF line ending", "GET / HTTP/1.1\nHost: x\n\n", .badLineEnding),
        ("NUL in a header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", .badLineEnding),
        ("control character in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{01}b\r\n\r\n", .badHeader),
        ("DEL in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{7F}b\r\n\r\n", .badHeader),
        ("header without colon", "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", .badHeader),
        ("empty header name", "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", .badHeader),
        ("invalid name characters", "GET / HTTP/1.1\r\nHost: x\r\nX(A): v\r\n\r\n", .badHeader),
        ("non-hex chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .badChunk),
        ("negative chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", .badChunk),
        (
            "0x chunk size",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", .badChunk
        ),
        (
            "overlong chunk size",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", .badChunk
        ),
        ("empty chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", .badChunk),
        (
            "chunk data longer than its size",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", .badChunk
        ),
        (
            "chunk size with a bare LF",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", .badLineEnding
        ),
        ("missing Host", "GET / HTTP/1.1\r\n\r\n", .badHost),
        ("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .badHost),
        ("two spaces in the request line", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", .badRequestLine),
        ("tab in the request line", "GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", .badRequestLine),
        ("no version", "GET /\r\nHost: x\r\n\r\n", .badRequestLine),
        ("HTTP/2.0 on the wire", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", .unsupportedVersion),
        ("lower-case version", "GET / http/1.1\r\nHost: x\r\n\r\n", .badRequestLine),
        ("method with a slash", "GE/T / HTTP/1.1\r\nHost: x\r\n\r\n", .badRequestLine),
        ("space in the target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", .badRequestLine),
    ]

    @Test(
        "ambiguous or malformed requests are refused with a reason", arguments: 0..<HTTPRequestParserTests.refused.count
    )
    func refusal(index: Int) {
        let (name, text, code) = Self.refused[index]
        let parsed = Parsed(text)
        #expect(parsed.error?.code == code, "\(name): \(String(describing: parsed.error))")
        #expect(parsed.error?.reason.isEmpty == false)
        // Fed byte by byte, the verdict is the same.
        #expect(Parsed(text, chunk: 1).error?.code == code, "\(name), byte by byte")
    }

    @Test("limits: request line, header count, header bytes and body size are enforced before buffering")
    func limits() {
        let limits = HTTPLimits(requestLine: 64, headerCount: 3, headerBytes: 200, bodyBytes: 10)
        #expect(
            Parsed("GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\n", limits: limits).error?.code
                == .uriTooLong)
        let many = "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        #expect(Parsed(many, limits: limits).error?.code == .headersTooLarge)
        let big = "GET / HTTP/1.1\r\nHost: x\r\nA: " + String(repeating: "v", count: 300) + "\r\n\r\n"
        #expect(Parsed(big, limits: limits).error?.code == .headersTooLarge)
        #expect(
            Parsed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", limits: limits).error?.code
                == .bodyTooLarge)
        let chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n"
        #expect(Parsed(chunked, limits: limits).error?.code == .bodyTooLarge)
    }

    @Test("after an error the parser refuses everything that follows")
    func failedStaysFailed() throws {
        var parser = HTTPRequestParser()
        let bad = Array("GET / HTTP/1.1\nHost: x\n\n".utf8)
        #expect(throws: HTTPParseError.self) { try bad.withUnsafeBytes { try parser.parse($0) { _ in } } }
        let good = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        #expect(throws: HTTPParseError.self) { try good.withUnsafeBytes { try parser.parse($0) { _ in } } }
        #expect(parser.failed)
    }
}

@Suite("HTTP/1.1 request head encoding")
struct HTTPRequestHeadEncodingTests {
    @Test("stripping forged identity headers (any case) and adding the proxy's own re-encodes a head that parses back")
    func stripAndAdd() {
        let parsed = Parsed(
            "GET /orders HTTP/1.1\r\nHost: x\r\nX-Forwarded-Client-Cert: forged\r\nx-client-spiffe-id: forged\r\n\r\n")
        let head = parsed.heads[0].removing(["X-Forwarded-Client-Cert", "X-Client-SPIFFE-ID"])
            .adding([HTTPField("X-Client-SPIFFE-ID", "spiffe://acme.internal/ns/payments/api")])
        let text = String(decoding: head.encoded(), as: UTF8.self)
        #expect(
            text
                == "GET /orders HTTP/1.1\r\nHost: x\r\nX-Client-SPIFFE-ID: spiffe://acme.internal/ns/payments/api\r\n\r\n"
        )
        let again = Parsed(text)
        #expect(again.error == nil)
        #expect(again.heads.first?.values("x-forwarded-client-cert") == [])
    }
}
