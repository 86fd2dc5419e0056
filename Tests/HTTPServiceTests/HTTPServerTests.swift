import Foundation
import HTTP1
import HTTPService
import NetCore
import Synchronization
import TestSupport
import Testing

/// Echoes what the handler saw, one `key=value` per line, so a test can read back the parsed request.
func echo(_ request: HTTPRequest) -> HTTPResponse {
    var lines = [
        "method=\(request.method)", "path=\(request.path)", "query=\(request.query ?? "-")",
        "body=\(request.bodyText)", "peer=\(request.peer?.description ?? "-")",
    ]
    if let type = request.value("content-type") { lines.append("content-type=\(type)") }
    return HTTPResponse(
        headers: [HTTPField("X-Body-Length", String(request.body.count))], text: lines.joined(separator: "\n"))
}

/// A raw-socket client in Python: sends `payload` in one write, then prints everything received until the server
/// closes (bounded by the socket timeout), and `<EOF>` when the close came.
func rawExchange(port: Int, payload: String) throws -> ProcessResult {
    let script = """
        import socket, sys
        s = socket.create_connection(('127.0.0.1', \(port)), timeout=10)
        s.sendall(sys.argv[1].encode())
        data = b''
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    data += b'<EOF>'
                    break
                data += chunk
        except socket.timeout:
            data += b'<TIMEOUT>'
        sys.stdout.write(data.decode('latin-1'))
        """
    return try ProcessRunner.run("/usr/bin/python3", ["-c", script, payload], timeout: 30)
}

func curl(_ arguments: [String]) throws -> ProcessResult {
    try ProcessRunner.run("curl", ["--silent", "--show-error", "--max-time", "10"] + arguments, timeout: 30)
}

@Suite("HTTPServer over plaintext, with curl and raw sockets")
struct HTTPServerTests {
    let directory = TemporaryDirectory("symbolon-http-service")

    /// A server on 127.0.0.1 with one loop, answering with `handler` (echo by default).
    func serve(
        _ configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
        handler: @escaping @Sendable (HTTPRequest, HTTPResponder) -> Void = { $1.respond(echo($0)) }
    ) throws -> (HTTPServer, String) {
        let server = try HTTPServer(configuration: configuration, threads: 1, handler: handler)
        let bound = try server.listen(on: try SocketAddress.parse("127.0.0.1:0"))
        return (server, "http://127.0.0.1:\(bound.port ?? 0)")
    }

    @Test("a GET with a query reaches the handler with its path and query apart")
    func get() throws {
        let (server, url) = try serve()
        defer { server.shutdown() }
        let result = try curl(["-i", "\(url)/v1/things?limit=5&x=%20"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(result.stdout.contains("path=/v1/things\n"))
        #expect(result.stdout.contains("query=limit=5&x=%20\n"))
        #expect(result.stdout.contains("peer=-"))
        #expect(result.stdout.contains("Content-Length: "))
        #expect(result.stdout.contains("Date: "))
    }

    @Test("a POST body arrives whole, with Content-Length and chunked")
    func post() throws {
        let (server, url) = try serve()
        defer { server.shutdown() }
        let plain = try curl(["--data-binary", "hello body", "-H", "Content-Type: text/plain", "\(url)/submit"])
        #expect(plain.status == 0, "\(plain)")
        #expect(plain.stdout.contains("method=POST\n"))
        #expect(plain.stdout.contains("body=hello body\n"))
        #expect(plain.stdout.contains("content-type=text/plain"))
        let chunked = try curl([
            "-i", "-H", "Transfer-Encoding: chunked", "--data-binary", "sent in chunks", "\(url)/chunked",
        ])
        #expect(chunked.status == 0, "\(chunked)")
        #expect(chunked.stdout.contains("body=sent in chunks\n"))
        #expect(chunked.stdout.contains("X-Body-Length: 14"))
    }

    @Test("two requests from curl share one kept-alive connection")
    func keepAlive() throws {
        let (server, url) = try serve()
        defer { server.shutdown() }
        let result = try curl(["-w", "connects=%{num_connects}\n", "\(url)/first", "\(url)/second"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("path=/first\n"))
        #expect(result.stdout.contains("path=/second\n"))
        let connects = result.stdout.split(separator: "\n").filter { $0.hasPrefix("connects=") }
        #expect(connects == ["connects=1", "connects=0"], "\(result.stdout)")
    }

    @Test("pipelined requests are answered in order, the first one later from another thread")
    func pipelining() throws {
        let (server, url) = try serve { request, responder in
            if request.path == "/one" {
                // Blocking work off the loop, answered when done.
                DispatchQueue.global().async {
                    usleep(50_000)
                    responder.respond(echo(request))
                }
            } else {
                responder.respond(echo(request))
            }
        }
        defer { server.shutdown() }
        let port = Int(url.split(separator: ":").last ?? "0") ?? 0
        let result = try rawExchange(
            port: port,
            payload: "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(result.status == 0, "\(result)")
        let text = result.stdout
        let one = text.range(of: "path=/one")
        let two = text.range(of: "path=/two")
        let three = text.range(of: "path=/three")
        #expect(one != nil && two != nil && three != nil, "\(text)")
        if let one, let two, let three {
            #expect(one.lowerBound < two.lowerBound && two.lowerBound < three.lowerBound)
        }
        #expect(text.contains("body=abc\n"))
        #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 4)
        #expect(text.components(separatedBy: "Connection: close").count == 2)
        #expect(text.hasSuffix("<EOF>"))
    }

    @Test("a handler may answer later from another thread")
    func answerLater() throws {
        let (server, url) = try serve { request, responder in
            Thread.detachNewThread {
                usleep(20_000)
                responder.respond(HTTPResponse(status: 201, text: "signed later for \(request.path)"))
            }
        }
        defer { server.shutdown() }
        let result = try curl(["-i", "\(url)/sign"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasPrefix("HTTP/1.1 201 Created\r\n"))
        #expect(result.stdout.contains("signed later for /sign\n"))
    }

    @Test("a malformed request gets the parser's status, Connection: close, and the close")
    func malformed() throws {
        let refusals = Mutex<[String]>([])
        var configuration = HTTPServerConfiguration()
        configuration.onRefusal = { _, error in refusals.withLock { $0.append("\(error)") } }
        let reached = Atomic<Int>(0)
        let (server, url) = try serve(configuration) { request, responder in
            reached.add(1, ordering: .relaxed)
            responder.respond(echo(request))
        }
        defer { server.shutdown() }
        let port = Int(url.split(separator: ":").last ?? "0") ?? 0
        let cases = [
            ("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", "400 Bad Request"),
            (
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
                "400 Bad Request"
            ),
            ("GET / HTTP/1.1\r\n\r\n", "400 Bad Request"),
            ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", "505 HTTP Version Not Supported"),
            ("GET / HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n", "417 Expectation Failed"),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "501 Not Implemented"),
        ]
        for (payload, status) in cases {
            let result = try rawExchange(port: port, payload: payload)
            #expect(result.stdout.hasPrefix("HTTP/1.1 \(status)\r\n"), "\(payload.debugDescription): \(result)")
            #expect(result.stdout.contains("Connection: close\r\n"))
            #expect(result.stdout.hasSuffix("<EOF>"), "\(result)")
        }
        #expect(reached.load(ordering: .relaxed) == 0)
        #expect(refusals.withLock { $0.contains { $0.contains("no colon") } })
    }

    @Test("a body over the limit gets 413, and with Expect: 100-continue before it is sent")
    func tooLarge() throws {
        var configuration = HTTPServerConfiguration()
        configuration.limits.bodyBytes = 1024
        let (server, url) = try serve(configuration)
        defer { server.shutdown() }
        let big = try directory.write("big.txt", String(repeating: "x", count: 4096))
        let plain = try curl(["-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@\(big)", "\(url)/upload"])
        #expect(plain.stdout == "413", "\(plain)")
        let expecting = try curl([
            "-v", "-H", "Expect: 100-continue", "--data-binary", "@\(big)", "\(url)/upload",
        ])
        #expect(expecting.stderr.contains("< HTTP/1.1 413"), "\(expecting)")
        #expect(!expecting.stderr.contains("100 Continue"))
        let chunked = try curl([
            "-o", "/dev/null", "-w", "%{http_code}", "-H", "Transfer-Encoding: chunked", "--data-binary", "@\(big)",
            "\(url)/upload",
        ])
        #expect(chunked.stdout == "413", "\(chunked)")
    }

    @Test("Expect: 100-continue is answered before the body is read")
    func expectContinue() throws {
        let (server, url) = try serve()
        defer { server.shutdown() }
        let result = try curl(["-v", "-H", "Expect: 100-continue", "--data-binary", "after continue", "\(url)/c"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("< HTTP/1.1 100 Continue"), "\(result)")
        #expect(result.stdout.contains("body=after continue\n"))
    }

    @Test("HEAD gets the length without the body; a handler's bad header becomes a 500")
    func headAndBadResponse() throws {
        let (server, url) = try serve { request, responder in
            if request.path == "/bad" {
                responder.respond(HTTPResponse(headers: [HTTPField("X-Evil", "a\r\nSet-Cookie: x=y")], text: "no"))
            } else {
                responder.respond(HTTPResponse(text: "twelve bytes"))
            }
        }
        defer { server.shutdown() }
        let head = try curl(["-I", "\(url)/"])
        #expect(head.status == 0, "\(head)")
        #expect(head.stdout.contains("Content-Length: 13\r\n"), "\(head)")
        let bad = try curl(["-i", "\(url)/bad"])
        #expect(bad.stdout.hasPrefix("HTTP/1.1 500"), "\(bad)")
        #expect(!bad.stdout.contains("Set-Cookie"))
    }

    @Test("a request head that does not complete in time gets 408 and the close")
    func slowHead() throws {
        var configuration = HTTPServerConfiguration()
        configuration.requestHeadTimeout = .milliseconds(200)
        let (server, url) = try serve(configuration)
        defer { server.shutdown() }
        let port = Int(url.split(separator: ":").last ?? "0") ?? 0
        let result = try rawExchange(port: port, payload: "GET /slow HTTP/1.1\r\nHost: x\r\n")
        #expect(result.stdout.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(result)")
        #expect(result.stdout.hasSuffix("<EOF>"))
    }

    @Test("a handler that never answers gets a 503 stand-in; a dropped responder a 500")
    func unanswered() throws {
        var configuration = HTTPServerConfiguration()
        configuration.responseTimeout = .milliseconds(200)
        let kept = Mutex<[HTTPResponder]>([])
        let (server, url) = try serve(configuration) { request, responder in
            if request.path == "/forget" { return }  // the responder is dropped here
            kept.withLock { $0.append(responder) }  // held, never answered
        }
        defer { server.shutdown() }
        let never = try curl(["-i", "\(url)/never"])
        #expect(never.stdout.hasPrefix("HTTP/1.1 503"), "\(never)")
        let forgot = try curl(["-i", "\(url)/forget"])
        #expect(forgot.stdout.hasPrefix("HTTP/1.1 500"), "\(forgot)")
        kept.withLock { $0.first?.respond(HTTPResponse(text: "too late")) }  // dropped, no crash
    }

    @Test("shutdown lets the request in flight finish, then closes")
    func gracefulShutdown() throws {
        let started = Atomic<Bool>(false)
        let (server, url) = try serve { request, responder in
            started.store(true, ordering: .releasing)
            DispatchQueue.global().async {
                usleep(200_000)
                responder.respond(HTTPResponse(text: "finished"))
            }
        }
        let outcome = Mutex<ProcessResult?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let result = try? curl(["-i", "\(url)/slow"])
            outcome.withLock { $0 = result }
            done.signal()
        }
        for _ in 0..<1000 where !started.load(ordering: .acquiring) { usleep(10_000) }
        server.shutdown(gracePeriod: .seconds(10))
        #expect(done.wait(timeout: .now() + 30) == .success)
        let result = outcome.withLock { $0 }
        #expect(result?.stdout.contains("finished") == true, "\(String(describing: result))")
        #expect(result?.stdout.contains("Connection: close") == true)
        #expect(server.openConnections == 0)
    }

    @Test("HTTP/1.0 keep-alive is honoured when asked for, and the connection closes when it is not")
    func http10() throws {
        let (server, url) = try serve()
        defer { server.shutdown() }
        let port = Int(url.split(separator: ":").last ?? "0") ?? 0
        let result = try rawExchange(
            port: port,
            payload: "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
        let responses = result.stdout.components(separatedBy: "HTTP/1.1 200 OK\r\n").dropFirst()
        #expect(responses.count == 2, "\(result)")
        #expect(responses.first?.contains("Connection: keep-alive\r\n") == true)
        #expect(responses.last?.contains("Connection: close\r\n") == true)
        #expect(result.stdout.hasSuffix("<EOF>"))
    }

    @Test("a long pipeline (more than the server holds at once) is answered in full and in order")
    func longPipeline() throws {
        let (server, url) = try serve()
        defer { server.shutdown() }
        let port = Int(url.split(separator: ":").last ?? "0") ?? 0
        // Written from a thread while the main thread reads, as a pipelining client must.
        let script = """
            import socket, sys, threading
            s = socket.create_connection(('127.0.0.1', \(port)), timeout=20)
            count = 3000
            payload = b''.join(b'GET /n/%d HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' % i for i in range(count))
            payload += b'GET /last HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'
            threading.Thread(target=lambda: s.sendall(payload), daemon=True).start()
            data = b''
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            text = data.decode()
            paths = [line[5:] for line in text.split('\\n') if line.startswith('path=')]
            expected = ['/n/%d' % i for i in range(count)] + ['/last']
            print('in order' if paths == expected else 'wrong: %d paths, first difference at %s' % (
                len(paths), next((i for i, (a, b) in enumerate(zip(paths, expected)) if a != b), None)))
            """
        let result = try ProcessRunner.run("/usr/bin/python3", ["-c", script], timeout: 60)
        #expect(result.stdout == "in order\n", "\(result)")
    }

    @Test("random and mangled bytes never bring the server down; it answers normally afterwards")
    func fuzz() throws {
        let (server, url) = try serve()
        defer { server.shutdown() }
        let port = Int(url.split(separator: ":").last ?? "0") ?? 0
        let script = """
            import os, random, socket
            random.seed(7)
            valid = b'POST /x?y=1 HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\n\\r\\n'
            answered = 0
            for round in range(300):
                if round % 3 == 0:
                    payload = os.urandom(random.randint(1, 2000))
                else:
                    payload = bytearray(valid)
                    for _ in range(random.randint(1, 6)):
                        payload[random.randrange(len(payload))] = random.randrange(256)
                    payload = bytes(payload)
                s = socket.create_connection(('127.0.0.1', \(port)), timeout=2)
                try:
                    s.sendall(payload)
                    s.shutdown(socket.SHUT_WR)
                    if s.recv(65536):
                        answered += 1
                except OSError:
                    pass
                s.close()
            print('done', answered > 0)
            """
        let result = try ProcessRunner.run("/usr/bin/python3", ["-c", script], timeout: 120)
        #expect(result.stdout == "done True\n", "\(result)")
        let after = try curl(["\(url)/still-here"])
        #expect(after.stdout.contains("path=/still-here\n"), "\(after)")
    }
}
