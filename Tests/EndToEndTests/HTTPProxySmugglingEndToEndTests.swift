import Foundation
import TestSupport
import Testing

/// One malformed or ambiguous request, sent raw over TLS, and the status docs/http.md names for it.
struct SmugglingCase: Sendable, CustomStringConvertible {
    let name: String
    let request: [UInt8]
    let status: Int
    var description: String { "\(name) → \(status)" }

    init(_ name: String, _ request: String, _ status: Int = 400) {
        self.name = name
        self.request = Array(request.utf8)
        self.status = status
    }
}

extension ProxyEndToEndTests {
    @Suite("proxy --mode http: request smuggling and malformed requests are refused, and nothing reaches the backend")
    struct HTTPProxySmuggling {
        static let host = "Host: localhost\r\n"
        static let hidden = "GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"

        static func post(_ headers: String, _ body: String) -> String {
            "POST /submit HTTP/1.1\r\n" + host + headers + "\r\n" + body
        }

        static func get(_ target: String, version: String = "HTTP/1.1") -> String {
            "GET \(target) \(version)\r\n" + host + "\r\n"
        }

        /// Every case, with the status docs/http.md ("What is refused") gives it.
        static let cases: [SmugglingCase] = [
            // Framing: Content-Length and Transfer-Encoding together, in either order.
            SmugglingCase(
                "Content-Length and Transfer-Encoding",
                post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")),
            SmugglingCase(
                "Transfer-Encoding and Content-Length",
                post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n")),
            SmugglingCase(
                "Content-Length: 0 + chunked, a second request hidden in the body (CL.TE)",
                post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", hidden)),
            SmugglingCase(
                "chunked + Content-Length: 4, a request hidden in a chunk (TE.CL)",
                post(
                    "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
                    String(hidden.utf8.count, radix: 16) + "\r\n" + hidden + "\r\n0\r\n\r\n")),
            // Content-Length.
            SmugglingCase(
                "Content-Length twice, same value", post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello")),
            SmugglingCase("Content-Length: 5, 5 (a list)", post("Content-Length: 5, 5\r\n", "hello")),
            SmugglingCase(
                "differing Content-Length (0 and the hidden request's length)",
                post("Content-Length: 0\r\nContent-Length: \(hidden.utf8.count)\r\n", hidden)),
            SmugglingCase("Content-Length with a plus sign", post("Content-Length: +5\r\n", "hello")),
            SmugglingCase("negative Content-Length", post("Content-Length: -5\r\n", "hello")),
            SmugglingCase("a space inside Content-Length", post("Content-Length: 1 0\r\n", "helloworld")),
            SmugglingCase("hexadecimal Content-Length", post("Content-Length: 0x5\r\n", "hello")),
            SmugglingCase("empty Content-Length", post("Content-Length: \r\n", "hello")),
            SmugglingCase(
                "Content-Length beyond 64 bits", post("Content-Length: 99999999999999999999999\r\n", "hello")),
            // Transfer-Encoding.
            SmugglingCase(
                "Transfer-Encoding: chunked on two lines",
                post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")),
            SmugglingCase(
                "Transfer-Encoding: chunked, chunked", post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n")),
            SmugglingCase(
                "Transfer-Encoding: chunked, gzip", post("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n")),
            SmugglingCase("Transfer-Encoding: gzip alone", post("Transfer-Encoding: gzip\r\n", "hello")),
            SmugglingCase("Transfer-Encoding: xchunked", post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n")),
            SmugglingCase(
                "Transfer-Encoding: chunked, then a second line 'identity'",
                post("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", "0\r\n\r\n")),
            SmugglingCase(
                "Transfer-Encoding in HTTP/1.0",
                "POST /submit HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            SmugglingCase(
                "Transfer-Encoding continued on an obs-fold line",
                post("Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n")),
            // Header syntax.
            SmugglingCase(
                "obs-fold in an ordinary header",
                get("/").replacingOccurrences(
                    of: "\r\n\r\n", with: "\r\nX-Folded: a\r\n b\r\n\r\n")),
            SmugglingCase(
                "obs-fold with a tab",
                get("/").replacingOccurrences(
                    of: "\r\n\r\n", with: "\r\nX-Folded: a\r\n\tb\r\n\r\n")),
            SmugglingCase(
                "a space before the colon (Transfer-Encoding : chunked)",
                post("Transfer-Encoding : chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n")),
            SmugglingCase(
                "a space before the colon (ordinary header)", "GET / HTTP/1.1\r\nHost: localhost\r\nX-Name : v\r\n\r\n"),
            SmugglingCase("a tab before the colon", post("Content-Length\t: 5\r\n", "hello")),
            SmugglingCase("a bare CR inside a header value", "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\rb\r\n\r\n"),
            SmugglingCase("bare LF line endings throughout", "GET / HTTP/1.1\nHost: localhost\n\n"),
            SmugglingCase("a bare LF ending one header line", "GET / HTTP/1.1\r\nHost: localhost\nX-A: b\r\n\r\n"),
            SmugglingCase("NUL in a header value", "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\u{0}b\r\n\r\n"),
            SmugglingCase(
                "a control character (0x01) in a header value",
                "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\u{1}b\r\n\r\n"),
            SmugglingCase(
                "ESC (0x1b) in a header value", "GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\u{1b}[2Jb\r\n\r\n"),
            SmugglingCase("NUL in the request target", "GET /a\u{0}b HTTP/1.1\r\nHost: localhost\r\n\r\n"),
            SmugglingCase("a header line without a colon", "GET / HTTP/1.1\r\nHost: localhost\r\nX-No-Colon\r\n\r\n"),
            SmugglingCase("an empty header name", "GET / HTTP/1.1\r\nHost: localhost\r\n: value\r\n\r\n"),
            SmugglingCase(
                "a header name with non-token characters", "GET / HTTP/1.1\r\nHost: localhost\r\nX[bad]: v\r\n\r\n"),
            // Chunked bodies.
            SmugglingCase(
                "a chunk size that is not hex", post("Transfer-Encoding: chunked\r\n", "zz\r\nhello\r\n0\r\n\r\n")),
            SmugglingCase("chunk size 0x5", post("Transfer-Encoding: chunked\r\n", "0x5\r\nhello\r\n0\r\n\r\n")),
            SmugglingCase("a negative chunk size", post("Transfer-Encoding: chunked\r\n", "-5\r\nhello\r\n0\r\n\r\n")),
            SmugglingCase(
                "a chunk size of 17 hex digits (beyond 64 bits)",
                post("Transfer-Encoding: chunked\r\n", "10000000000000005\r\nhello\r\n0\r\n\r\n")),
            SmugglingCase("an empty chunk size line", post("Transfer-Encoding: chunked\r\n", "\r\nhello\r\n0\r\n\r\n")),
            SmugglingCase(
                "chunk data not followed by CRLF", post("Transfer-Encoding: chunked\r\n", "5\r\nhello0\r\n\r\n")),
            SmugglingCase(
                "chunk data longer than its size", post("Transfer-Encoding: chunked\r\n", "3\r\nhello\r\n0\r\n\r\n")),
            SmugglingCase(
                "a chunk size line ending in a bare LF", post("Transfer-Encoding: chunked\r\n", "5\nhello\r\n0\r\n\r\n")
            ),
            SmugglingCase(
                "a control character in a chunk extension",
                post("Transfer-Encoding: chunked\r\n", "5;x=\u{1}\r\nhello\r\n0\r\n\r\n")),
            SmugglingCase(
                "a chunk size line of 2000 bytes",
                post(
                    "Transfer-Encoding: chunked\r\n",
                    "5;" + String(repeating: "a", count: 2000) + "\r\nhello\r\n0\r\n\r\n")),
            // Host.
            SmugglingCase("HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n"),
            SmugglingCase("two Host headers", "GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n"),
            // The request line.
            SmugglingCase("two spaces in the request line", get(" /")),
            SmugglingCase("a tab in the request line", "GET\t/ HTTP/1.1\r\nHost: localhost\r\n\r\n"),
            SmugglingCase("a lowercase version (http/1.1)", get("/", version: "http/1.1")),
            SmugglingCase("HTTP/2.0", get("/", version: "HTTP/2.0"), 505),
            SmugglingCase("HTTP/1.2", get("/", version: "HTTP/1.2"), 505),
            SmugglingCase("no version (HTTP/0.9 style)", "GET /\r\nHost: localhost\r\n\r\n"),
            SmugglingCase("a space after the version", get("/", version: "HTTP/1.1 ")),
            SmugglingCase("a 16 KiB request line", get("/" + String(repeating: "a", count: 16 * 1024)), 414),
            SmugglingCase(
                "1000 header fields",
                "GET / HTTP/1.1\r\nHost: localhost\r\n"
                    + (0..<1000).map { "X-F\($0): v\r\n" }.joined() + "\r\n", 431),
            SmugglingCase(
                "a 40 KiB header section",
                "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + String(repeating: "b", count: 40 * 1024)
                    + "\r\n\r\n", 431),
            // Ambiguous targets.
            SmugglingCase("a /../ path", get("/../admin")),
            SmugglingCase("a /./ path", get("/a/./b")),
            SmugglingCase("an encoded dot segment /%2e%2e/", get("/a/%2e%2e/b")),
            SmugglingCase("an encoded dot segment /%2E%2E/ at the end", get("/a/%2E%2E")),
            SmugglingCase("a half-encoded dot segment /.%2e/", get("/a/.%2e/admin")),
            SmugglingCase("an encoded slash %2F", get("/a%2Fb")),
            SmugglingCase("an encoded backslash %5c", get("/a%5cb")),
            SmugglingCase("a backslash", get("/a\\b")),
            SmugglingCase("an absolute-form target", get("http://localhost/admin")),
            SmugglingCase(
                "an authority-form target (CONNECT)", "CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n"),
            SmugglingCase("an asterisk target with GET", get("*")),
            SmugglingCase("a target without a leading slash", get("admin")),
        ]

        @Test(
            "Each malformed or ambiguous request gets its status (400, or 414/431/505) with Connection: close and a 'symbolon: reason' body, then the connection closes; the backend receives no request and no byte, and a good request afterwards moves its count by exactly 1"
        )
        func refusedAndNeverForwarded() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            #expect(Self.cases.count >= 40, "\(Self.cases.count) cases")
            var refusedCount = 0
            for testCase in Self.cases {
                let before = s.backend.requestLines.count
                let results = try s.raw([.refusal(testCase.name, testCase.request)])
                let result = results[0]
                let context = "\(testCase)\n\(result)"
                #expect(result.responses.count == 1, "exactly one response: \(context)")
                if let response = result.responses.first {
                    #expect(response.status == testCase.status, "status: \(context)")
                    #expect(
                        response.headers.values("connection").contains { $0.lowercased() == "close" },
                        "Connection: close: \(context)")
                    #expect(response.body.hasPrefix("symbolon: "), "body 'symbolon: <reason>': \(context)")
                    #expect(
                        !response.body.trimmingCharacters(in: .whitespacesAndNewlines).contains("\n"),
                        "a one-line reason: \(context)")
                    refusedCount += 1
                }
                // Closed cleanly: recv returns b"" (no reset that could have destroyed the response).
                #expect(result.end == "eof", "the connection must be closed after the refusal: \(context)")
                #expect(result.leftover == nil, "nothing after the refusal: \(context)")
                #expect(
                    s.backend.requestLines.count == before,
                    "reached the backend: \(testCase.name)\n\(s.backend.requestLines.dropFirst(before))")
            }
            // The count is unchanged after the whole suite: no request, and no byte on any backend connection.
            #expect(s.backend.requestLines.isEmpty, "requests reached the backend:\n\(s.backend.requestLines)")
            #expect(
                s.backend.closedConnectionBytes.allSatisfy { $0 == 0 },
                "bytes reached the backend:\n\(s.backend.lines.filter { $0.hasPrefix("conn ") })")
            // Every refusal is in the access log as decision=rejected.
            let rejected = s.proxy.requestLine(from: 0) { _ in
                s.proxy.requestLines.filter { $0.decision == "rejected" }.count >= refusedCount
            }
            #expect(rejected != nil, "access log:\n\(s.proxy.logText)")
            #expect(
                s.proxy.requestLines.filter { $0.decision == "rejected" }.count == refusedCount,
                "one rejected line per refusal (\(refusedCount)):\n\(s.proxy.logText)")

            // A good request on a fresh connection moves the count by exactly one.
            let good = try s.raw([
                RawSession("good", [.send(bytes("GET /good HTTP/1.1\r\nHost: localhost\r\n\r\n")), .responses(1)])
            ])[0]
            #expect(good.responses.first?.status == 200, "\(good)")
            let line = s.backend.waitForLine { $0.hasPrefix("request ") && $0.contains("target=/good") }
            #expect(line != nil, "\(s.backend.output)")
            #expect(s.backend.requestLines.count == 1, "\(s.backend.requestLines)")
        }

        @Test(
            "A valid request followed on the same connection by a smuggled malformed one: the first is answered 200, the second refused with 400 and the connection closed; only the first reaches the backend"
        )
        func validThenMalformedOnOneConnection() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let first = "POST /first HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello"
            let second =
                "POST /second HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Self.hidden
            let result = try s.raw([RawSession("pipelined smuggling", [.send(bytes(first + second)), .eof(10)])])[0]
            #expect(result.responses.map(\.status) == [200, 400], "\(result)")
            #expect(result.closed, "\(result)")
            #expect(result.responses.first?.echo?.body == "hello", "\(result)")
            _ = s.backend.waitForLine { $0.hasPrefix("request ") }
            #expect(
                s.backend.requestLines.count == 1 && s.backend.requestLines[0].contains("target=/first"),
                "\(s.backend.requestLines)")
        }

        @Test(
            "--max-body-size 1000: a 2000-byte Content-Length body and a 2000-byte chunked body get 413 and a closed connection; 1000 bytes pass"
        )
        func maxBodySize() throws {
            let s = try HTTPProxySetup.start(["--max-body-size", "1000"])
            defer { s.stop() }
            let big = String(repeating: "x", count: 2000)
            let results = try s.raw([
                .refusal("Content-Length 2000", bytes(Self.post("Content-Length: 2000\r\n", big))),
                .refusal(
                    "chunked 2000",
                    bytes(Self.post("Transfer-Encoding: chunked\r\n", "7d0\r\n" + big + "\r\n0\r\n\r\n"))),
                RawSession(
                    "Content-Length 1000",
                    [
                        .send(bytes(Self.post("Content-Length: 1000\r\n", String(big.prefix(1000))))),
                        .responses(1),
                    ]),
            ])
            for result in results.prefix(2) {
                #expect(result.responses.map(\.status) == [413] && result.closed, "\(result)")
            }
            #expect(results[2].responses.first?.status == 200, "\(results[2])")
            #expect(results[2].responses.first?.echo?.bodyLength == 1000, "\(results[2])")
        }

        @Test(
            "--request-head-timeout 1s: a client that sends half a request head and stalls gets 408 and a closed connection; nothing reaches the backend"
        )
        func slowHeaders() throws {
            let s = try HTTPProxySetup.start(["--request-head-timeout", "1s"])
            defer { s.stop() }
            let result = try s.raw([
                RawSession("slow head", [.send(bytes("GET /slow HTTP/1.1\r\nHost: local")), .eof(15)])
            ])[0]
            #expect(result.responses.map(\.status) == [408], "\(result)")
            #expect(result.closed, "\(result)")
            #expect(
                result.responses.first?.headers.values("connection").contains { $0.lowercased() == "close" } == true,
                "\(result)")
            #expect(s.backend.requestLines.isEmpty, "\(s.backend.lines)")
        }

        @Test("--max-header-size 1024: a 2 KiB header section gets 431; a small one passes")
        func maxHeaderSize() throws {
            let s = try HTTPProxySetup.start(["--max-header-size", "1024"])
            defer { s.stop() }
            let results = try s.raw([
                .refusal(
                    "2 KiB of headers",
                    bytes(
                        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + String(repeating: "b", count: 2048)
                            + "\r\n\r\n")),
                RawSession("small", [.send(bytes(Self.get("/small"))), .responses(1)]),
            ])
            #expect(results[0].responses.map(\.status) == [431] && results[0].closed, "\(results[0])")
            #expect(results[1].responses.first?.status == 200, "\(results[1])")
        }
    }
}
