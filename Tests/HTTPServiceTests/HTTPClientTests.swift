import Foundation
import HTTP1
import HTTPService
import NetCore
import Synchronization
import TLS
import TestSupport
import Testing
import X509

@Suite("HTTPClient against real servers: HTTPServer, Python http.server (plain and mTLS), broken peers")
struct HTTPClientTests {
    let directory = TemporaryDirectory("symbolon-http-client")
    let group: EventLoopGroup
    let client: HTTPClient

    init() throws {
        group = try EventLoopGroup(loopCount: 1)
        client = HTTPClient(group: group, limits: HTTPLimits(bodyBytes: 4096))
    }

    func address(_ port: Int) throws -> SocketAddress { try SocketAddress.parse("127.0.0.1:\(port)") }

    /// The error `body` throws, if it is an `HTTPClientError`.
    func failure(_ body: () async throws(HTTPClientError) -> HTTPClientResponse) async -> HTTPClientError? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error
        }
    }

    @Test("a POST to HTTPServer comes back with status, headers and body")
    func againstHTTPServer() async throws {
        defer { group.shutdown() }
        let server = try HTTPServer(threads: 1) { request, responder in
            responder.respond(
                HTTPResponse(
                    status: 201, headers: [HTTPField("X-Seen-Host", request.value("host") ?? "-")],
                    text: "got \(request.bodyText) at \(request.path)"))
        }
        defer { server.shutdown() }
        let bound = try server.listen(on: try SocketAddress.parse("127.0.0.1:0"))
        let response = try await client.send(
            HTTPClientRequest(method: "POST", target: "/v1/enroll?x=1", text: "csr"), to: bound,
            timeout: .seconds(10))
        #expect(response.status == 201)
        #expect(response.reason == "Created")
        #expect(response.bodyText == "got csr at /v1/enroll\n")
        #expect(response.values("x-seen-host") == ["127.0.0.1:\(bound.port ?? 0)"])
    }

    @Test("over mTLS to HTTPServer the server sees our identity; without a certificate the TLS failure is typed")
    func mTLSAgainstHTTPServer() async throws {
        defer { group.shutdown() }
        let fixture = try TLSFixture(directory)
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(tls: try fixture.serverContext(.require)), threads: 1
        ) { request, responder in
            responder.respond(HTTPResponse(text: "hello \(request.peer?.description ?? "-")"))
        }
        defer { server.shutdown() }
        let bound = try server.listen(on: try SocketAddress.parse("127.0.0.1:0"))
        let agent = try fixture.client("ns/ca/sa/agent")
        let tls = try fixture.clientContext(certificate: (agent.chain, agent.key))
        let response = try await client.send(
            HTTPClientRequest(target: "/whoami"), to: bound, tls: tls, timeout: .seconds(10))
        #expect(response.status == 200)
        #expect(response.bodyText == "hello spiffe://acme.internal/ns/ca/sa/agent\n")

        let anonymous = try fixture.clientContext(certificate: nil)
        let error = await failure { () async throws(HTTPClientError) in
            try await client.send(
                HTTPClientRequest(target: "/whoami"), to: bound, tls: anonymous, timeout: .seconds(10))
        }
        #expect(error?.code == .tlsFailed, "\(String(describing: error))")

        let stranger = try FixturePKI(dnsConstraints: ["localhost"])
        let distrusting = try TLSContext(
            configuration: .makeClientConfigurationWithMTLS(
                certificateChain: agent.chain, privateKey: agent.key, trustBundle: [stranger.root],
                expectedServerNames: [.dns("localhost")]))
        let rejected = await failure { () async throws(HTTPClientError) in
            try await client.send(HTTPClientRequest(target: "/"), to: bound, tls: distrusting, timeout: .seconds(10))
        }
        #expect(rejected?.code == .tlsFailed, "\(String(describing: rejected))")
        #expect(rejected?.reason.contains("certificate rejected") == true, "\(String(describing: rejected))")
    }

    @Test("against Python's http.server: Content-Length and close-delimited bodies, and a POST")
    func againstPython() async throws {
        defer { group.shutdown() }
        let python = try PeerProcess(mode: "http", directory: directory)
        defer { python.stop() }
        let hello = try await client.send(
            HTTPClientRequest(target: "/hello"), to: try address(python.port), timeout: .seconds(10))
        #expect(hello.status == 200)
        #expect(hello.bodyText == "hello from python\n")
        let closing = try await client.send(
            HTTPClientRequest(target: "/close-delimited"), to: try address(python.port), timeout: .seconds(10))
        #expect(closing.bodyText == "until the close\n")
        let posted = try await client.send(
            HTTPClientRequest(target: "/echo", text: "payload"), to: try address(python.port), timeout: .seconds(10))
        #expect(posted.bodyText == "python got payload")
        let missing = try await client.send(
            HTTPClientRequest(target: "/nope"), to: try address(python.port), timeout: .seconds(10))
        #expect(missing.status == 404)
    }

    @Test("against a Python ssl server that requires a client certificate")
    func againstPythonTLS() async throws {
        defer { group.shutdown() }
        let fixture = try TLSFixture(directory)
        let python = try PeerProcess(
            mode: "https", arguments: [fixture.serverChainFile, fixture.serverKeyFile, fixture.rootFile],
            directory: directory)
        defer { python.stop() }
        let agent = try fixture.client("ns/ca/sa/agent")
        let tls = try fixture.clientContext(certificate: (agent.chain, agent.key))
        let response = try await client.send(
            HTTPClientRequest(target: "/peer"), to: try address(python.port), tls: tls, timeout: .seconds(10))
        #expect(response.status == 200)
        #expect(response.bodyText == "peer spiffe://acme.internal/ns/ca/sa/agent\n")
    }

    @Test("a response that is not HTTP is a malformedResponse")
    func garbage() async throws {
        defer { group.shutdown() }
        let python = try PeerProcess(mode: "garbage", directory: directory)
        defer { python.stop() }
        let error = await failure { () async throws(HTTPClientError) in
            try await client.send(HTTPClientRequest(), to: try! address(python.port), timeout: .seconds(10))
        }
        #expect(error?.code == .malformedResponse, "\(String(describing: error))")
        #expect(error?.underlying is HTTPParseError)
    }

    @Test("a server that never answers is a timedOut, within the timeout")
    func silent() async throws {
        defer { group.shutdown() }
        let python = try PeerProcess(mode: "silent", directory: directory)
        defer { python.stop() }
        let error = await failure { () async throws(HTTPClientError) in
            try await client.send(HTTPClientRequest(), to: try! address(python.port), timeout: .milliseconds(300))
        }
        #expect(error?.code == .timedOut, "\(String(describing: error))")
        #expect(error?.reason.contains("waiting for the response") == true)
    }

    @Test("nothing listening is a connectionRefused")
    func refused() async throws {
        defer { group.shutdown() }
        // A port that was just free: bound, then closed.
        let listener = try Listener.bind(try SocketAddress.parse("127.0.0.1:0"), group: group) { $0.close() }
        let port = listener.localAddress.port ?? 0
        listener.close()
        let error = await failure { () async throws(HTTPClientError) in
            try await client.send(HTTPClientRequest(), to: try! address(port), timeout: .seconds(10))
        }
        #expect(error?.code == .connectionRefused, "\(String(describing: error))")
    }

    @Test("a body over the client's limit is bodyTooLarge, with Content-Length or close-delimited")
    func tooLarge() async throws {
        defer { group.shutdown() }
        let server = try HTTPServer(threads: 1) { _, responder in
            responder.respond(HTTPResponse(body: Array(repeating: 0x61, count: 8192)))
        }
        defer { server.shutdown() }
        let bound = try server.listen(on: try SocketAddress.parse("127.0.0.1:0"))
        let declared = await failure { () async throws(HTTPClientError) in
            try await client.send(HTTPClientRequest(), to: bound, timeout: .seconds(10))
        }
        #expect(declared?.code == .bodyTooLarge, "\(String(describing: declared))")
        let python = try PeerProcess(mode: "http", directory: directory)
        defer { python.stop() }
        let streamed = await failure { () async throws(HTTPClientError) in
            try await client.send(
                HTTPClientRequest(target: "/big-close-delimited"), to: try! address(python.port), timeout: .seconds(10))
        }
        #expect(streamed?.code == .bodyTooLarge, "\(String(describing: streamed))")
    }

    @Test("a request that cannot be sent as given is refused before connecting")
    func invalidRequest() async throws {
        defer { group.shutdown() }
        let address = try address(9)
        for request in [
            HTTPClientRequest(method: "GE T"), HTTPClientRequest(target: "/a b"),
            HTTPClientRequest(headers: [HTTPField("X-Bad", "a\r\nb")]),
            HTTPClientRequest(headers: [HTTPField("Content-Length", "5")]),
        ] {
            let error = await failure { () async throws(HTTPClientError) in
                try await client.send(request, to: address, timeout: .seconds(1))
            }
            #expect(error?.code == .invalidRequest, "\(String(describing: error))")
        }
    }
}
