import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite(
        "proxy --mode http: forwarding — keep-alive, pipelining, 100-continue, Upgrade, hop-by-hop fields, HTTP/1.0, 502s"
    )
    struct HTTPProxyForwarding {
        static func get(_ target: String, _ headers: String = "") -> [UInt8] {
            bytes("GET \(target) HTTP/1.1\r\nHost: localhost\r\n\(headers)\r\n")
        }

        @Test(
            "Keep-alive: three requests on one client connection are answered in turn and reach the backend over one backend connection"
        )
        func keepAlive() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let result = try s.raw([
                RawSession(
                    "keep-alive",
                    [
                        .send(Self.get("/one")), .responses(1), .send(Self.get("/two")), .responses(1),
                        .send(bytes("POST /three HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc")),
                        .responses(1), .eof(1),
                    ])
            ])[0]
            #expect(result.responses.map(\.status) == [200, 200, 200], "\(result)")
            let echoes = result.responses.compactMap(\.echo)
            #expect(echoes.map(\.target) == ["/one", "/two", "/three"], "\(result)")
            #expect(echoes.map(\.index) == [1, 2, 3], "one backend connection, three requests on it: \(result)")
            #expect(Set(echoes.map(\.connection)).count == 1, "\(result)")
            #expect(result.end == "timeout", "the client connection stays open: \(result)")
            #expect(s.backend.connectionCount == 1, "\(s.backend.lines)")
        }

        @Test(
            "Pipelining: two requests in one write (a POST with a body, then a GET) get two responses, in order, on one backend connection"
        )
        func pipelining() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let both =
                bytes("POST /first HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello")
                + Self.get("/second")
            let result = try s.raw([RawSession("pipelined", [.send(both), .responses(2)])])[0]
            #expect(result.responses.map(\.status) == [200, 200], "\(result)")
            let echoes = result.responses.compactMap(\.echo)
            #expect(echoes.map(\.target) == ["/first", "/second"], "\(result)")
            #expect(echoes.first?.body == "hello" && echoes.last?.bodyLength == 0, "\(result)")
            #expect(echoes.map(\.index) == [1, 2] && Set(echoes.map(\.connection)).count == 1, "\(result)")
        }

        @Test("Twenty requests pipelined in one write get twenty responses, in order")
        func manyPipelined() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let all = (1...20).flatMap { Self.get("/p\($0)") }
            let result = try s.raw([RawSession("twenty", [.send(all), .responses(20, timeout: 30)])])[0]
            #expect(result.responses.map(\.status) == Array(repeating: 200, count: 20), "\(result)")
            #expect(result.responses.compactMap(\.echo?.target) == (1...20).map { "/p\($0)" }, "\(result)")
        }

        @Test(
            "A client's Connection: close is honoured (RFC 9112 §9.6): the response comes, then the proxy closes the connection"
        )
        func clientConnectionClose() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let result = try s.raw([
                RawSession("close", [.send(Self.get("/bye", "Connection: close\r\n")), .responses(1), .eof(10)])
            ])[0]
            #expect(result.responses.map(\.status) == [200], "\(result)")
            #expect(result.closed, "\(result)")
        }

        @Test(
            "HEAD then GET pipelined: the HEAD response has no body and the GET's response follows intact (the proxy frames bodiless responses right)"
        )
        func headThenGet() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let both = bytes("HEAD /head HTTP/1.1\r\nHost: localhost\r\n\r\n") + Self.get("/after-head")
            let result = try s.raw([
                RawSession("head", [.send(both), .responses(1, head: true), .responses(1)])
            ])[0]
            #expect(result.responses.map(\.status) == [200, 200], "\(result)")
            #expect(result.responses.first?.body == "", "\(result)")
            #expect(result.responses.last?.echo?.target == "/after-head", "\(result)")
        }

        @Test(
            "Bodiless responses: a 204 and a 304 whose Content-Length announces 100 bytes never sent are passed back without a body, and the next request on the connection is answered"
        )
        func bodilessResponses() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let result = try s.raw([
                RawSession(
                    "bodiless",
                    [
                        .send(Self.get("/status?code=204")), .responses(1), .send(Self.get("/status?code=304&cl=100")),
                        .responses(1), .send(Self.get("/next")), .responses(1),
                    ])
            ])[0]
            #expect(result.responses.map(\.status) == [204, 304, 200], "\(result)")
            #expect(result.responses.prefix(2).allSatisfy { $0.body.isEmpty }, "\(result)")
            #expect(result.responses.last?.echo?.target == "/next", "\(result)")
        }

        @Test(
            "A backend that closes its connection after a response: the client connection stays open and the next request goes over a new backend connection"
        )
        func backendClosesBetweenRequests() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let result = try s.raw([
                RawSession(
                    "reopen",
                    [
                        .send(Self.get("/close")), .responses(1), .pause(0.3), .send(Self.get("/after")),
                        .responses(1),
                    ])
            ])[0]
            #expect(result.responses.map(\.status) == [200, 200], "\(result)")
            let echoes = result.responses.compactMap(\.echo)
            #expect(echoes.count == 2 && echoes[0].connection != echoes[1].connection, "\(result)")
            #expect(s.backend.connectionCount == 2, "\(s.backend.lines)")
        }

        @Test(
            "Expect: 100-continue with curl: a 4 MiB POST gets the backend's 100 Continue passed back, then the 200; the body arrives intact"
        )
        func expectContinueCurl() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let scratch = TemporaryDirectory("symbolon-e2e-http-continue")
            let file = scratch.file("body.bin")
            try #require(try E2E.sh("head -c \(4 << 20) /dev/urandom > \(E2E.quote(file))").status == 0)
            let digest = try E2E.sh("openssl dgst -sha256 -r \(E2E.quote(file))").stdout.split(separator: " ").first
                .map(String.init)
            let reply = try s.curl(
                "/upload",
                ["-v", "-H", "Expect: 100-continue", "--expect100-timeout", "30", "--data-binary", "@" + file])
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            #expect(reply.result.stderr.contains("< HTTP/1.1 100 Continue"), "curl saw no 100 Continue: \(reply)")
            let echo = try #require(reply.echo, "\(reply)")
            #expect(echo.headers.values("expect").map { $0.lowercased() } == ["100-continue"], "\(echo.headers)")
            #expect(echo.continueSent, "\(echo)")
            #expect(echo.bodyLength == 4 << 20 && echo.bodySHA256 == digest, "\(echo.bodyLength) \(echo.bodySHA256)")
        }

        @Test(
            "Expect: 100-continue raw: the 100 comes back before the client sends any body byte; then the body, then the 200"
        )
        func expectContinueRaw() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let result = try s.raw([
                RawSession(
                    "continue",
                    [
                        .send(
                            bytes(
                                "POST /continue HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n"
                            )),
                        .responses(1, timeout: 10), .send(bytes("hello world")), .responses(1),
                    ])
            ])[0]
            #expect(result.responses.map(\.status) == [100, 200], "\(result)")
            #expect(result.responses.last?.echo?.body == "hello world", "\(result)")
        }

        @Test(
            "Upgrade: websocket — the backend's 101 comes back, then bytes flow raw both ways (small and 1 MiB), as in tcp mode"
        )
        func upgrade() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let small: [UInt8] = Array("raw \u{0} bytes after the upgrade, GET / HTTP/1.1\r\n\r\n".utf8) + [0xff, 0xfe]
            let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
            let result = try s.raw([
                RawSession(
                    "upgrade",
                    [
                        .send(
                            bytes(
                                "GET /upgrade HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                            )),
                        .responses(1), .send(small), .bytes(small.count), .send(big), .bytes(big.count, timeout: 30),
                    ])
            ])[0]
            #expect(result.responses.map(\.status) == [101], "\(result)")
            #expect(
                result.responses.first?.headers.value("upgrade")?.lowercased() == "websocket", "\(result)")
            #expect(result.raw.count == small.count + big.count, "\(result.raw.count) bytes came back: \(result)")
            #expect(result.raw == small + big, "the bytes came back changed")
        }

        @Test(
            "Hop-by-hop fields (Connection and what it names, Keep-Alive, Proxy-Connection, TE, Trailer) are not forwarded; method, target and version are kept exactly; other fields pass"
        )
        func hopByHop() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let result = try s.raw([
                RawSession(
                    "hop-by-hop",
                    [
                        .send(
                            bytes(
                                "PATCH /a/b?c=d&e=%20f HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive, X-Drop-Me\r\nX-Drop-Me: 1\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-T\r\nX-Keep: kept\r\nContent-Length: 2\r\n\r\nok"
                            )), .responses(1),
                    ])
            ])[0]
            let echo = try #require(result.responses.first?.echo, "\(result)")
            #expect(echo.method == "PATCH" && echo.target == "/a/b?c=d&e=%20f" && echo.version == "HTTP/1.1", "\(echo)")
            for name in ["x-drop-me", "keep-alive", "proxy-connection", "te", "trailer"] {
                #expect(!echo.headers.has(name), "\(name) was forwarded:\n\(echo.headers)")
            }
            #expect(
                !echo.headers.values("connection").contains { $0.lowercased().contains("x-drop-me") }, "\(echo.headers)"
            )
            #expect(echo.headers.values("x-keep") == ["kept"] && echo.body == "ok", "\(echo)")
        }

        @Test(
            "A chunked body with a trailer is re-chunked to the backend: same bytes, Transfer-Encoding: chunked, no Content-Length, the trailer dropped"
        )
        func rechunked() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let result = try s.raw([
                RawSession(
                    "chunked",
                    [
                        .send(
                            bytes(
                                "POST /chunked HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: evil\r\n\r\n"
                            )), .responses(1),
                    ])
            ])[0]
            let echo = try #require(result.responses.first?.echo, "\(result)")
            #expect(echo.body == "hello world", "\(echo)")
            #expect(echo.headers.values("transfer-encoding").map { $0.lowercased() } == ["chunked"], "\(echo.headers)")
            #expect(!echo.headers.has("content-length"), "\(echo.headers)")
            #expect(echo.trailers.fields.isEmpty, "trailers must be dropped: \(echo.trailers)")
        }

        @Test(
            "OPTIONS * is forwarded as it is")
        func optionsAsterisk() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let result = try s.raw([
                RawSession("options", [.send(bytes("OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n")), .responses(1)])
            ])[0]
            #expect(result.responses.first?.status == 200, "\(result)")
            #expect(result.responses.first?.echo?.target == "*", "\(result)")
        }

        @Test(
            "An HTTP/1.0 client: curl --http1.0 gets 200 with the request forwarded as HTTP/1.0; a raw 1.0 request without Host is answered and the connection closed"
        )
        func http10() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let reply = try s.curl("/ten", ["--http1.0"])
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            #expect(reply.echo?.version == "HTTP/1.0", "\(reply)")
            let result = try s.raw([RawSession("1.0", [.send(bytes("GET /raw-ten HTTP/1.0\r\n\r\n")), .eof(10)])])[0]
            #expect(result.responses.map(\.status) == [200], "\(result)")
            #expect(result.responses.first?.echo?.version == "HTTP/1.0", "\(result)")
            #expect(result.closed, "HTTP/1.0 without keep-alive: the connection closes after the response: \(result)")
        }

        @Test("A backend that cannot be reached: 502 Bad Gateway, the client connection closed, logged decision=failed")
        func backendDown() throws {
            let probe = try HTTPBackend()
            let address = probe.address
            probe.stop()
            let s = try HTTPProxySetup.start(target: address)
            defer { s.stop() }
            let reply = try s.curl("/")
            #expect(reply.status == 502, "\(reply)\n\(s.proxy.logText)")
            let result = try s.raw([RawSession.refusal("down", Self.get("/down"))])[0]
            #expect(result.responses.map(\.status) == [502] && result.closed, "\(result)")
            let line = s.proxy.requestLine { $0["status"] == "502" }
            #expect(line?.decision == "failed", "\(s.proxy.logText)")
        }

        @Test(
            "A kept-alive backend connection closed just as the next bodiless request went out: the request is sent again on a new connection, and the client never sees the race"
        )
        func replayOnClosedKeptAliveConnection() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let reply = try s.curl("/after", [s.url("/drop-next")])  // curl takes the extra URL first
            #expect(reply.result.status == 0, "\(reply)")
            #expect(reply.body.contains("\"target\": \"/after\""), "\(reply)")
            #expect(
                s.backend.waitForLine(where: { $0.hasPrefix("dropped conn=") }) != nil,
                "the backend dropped the second request once: \(s.backend.lines)")
            #expect(s.proxy.requestLine { $0["path"] == "/after" }?["status"] == "200", "\(s.proxy.logText)")
        }

        @Test(
            "A response with Transfer-Encoding: gzip, chunked keeps its gzip coding on the way to the client (curl --tr-encoding decodes it)"
        )
        func transferCodingKept() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let reply = try s.curl("/gzip-chunked", ["--tr-encoding"])
            #expect(reply.status == 200 && reply.body == "unpacked by the client\n", "\(reply)")
        }

        @Test(
            "A backend sending a malformed response (not HTTP, two Content-Lengths, CL and TE, obs-fold, a 4-digit status): 502, the client connection closed, logged decision=failed",
            arguments: ["garbage", "double-cl", "cl-te", "obs-fold", "bad-status"])
        func malformedResponse(_ kind: String) throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let result = try s.raw([RawSession.refusal(kind, Self.get("/malformed?kind=\(kind)"))])[0]
            #expect(result.responses.map(\.status) == [502], "\(kind): \(result)")
            #expect(result.closed, "\(kind): \(result)")
            #expect(!result.responses.contains { $0.body.contains("hello") }, "\(kind): \(result)")
            let line = s.proxy.requestLine { $0["status"] == "502" }
            #expect(line?.decision == "failed", "\(kind): \(s.proxy.logText)")
        }

        @Test(
            "A backend response with a malformed chunk size, or cut short: the client never gets it as a complete, valid response, and its connection is closed"
        )
        func brokenResponseBody() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            for kind in ["bad-chunk", "truncated"] {
                let result = try s.raw([RawSession.refusal(kind, Self.get("/malformed?kind=\(kind)"))])[0]
                #expect(result.closed, "\(kind): \(result)")
                // A 502, or the head followed by a close (no complete message): never a complete 200.
                #expect(!result.responses.contains { $0.status == 200 }, "\(kind): \(result)")
            }
        }
    }
}
