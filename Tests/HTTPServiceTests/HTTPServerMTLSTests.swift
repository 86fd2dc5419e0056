import Foundation
import HTTP1
import HTTPService
import NetCore
import Synchronization
import TLS
import TestSupport
import Testing
import X509

/// Certificates for the TLS tests: a server leaf for `localhost` and client leaves with SPIFFE IDs, from one
/// fixture PKI, written to files for curl and Python.
struct TLSFixture {
    let directory: TemporaryDirectory
    let pki: FixturePKI
    let serverChain: [Certificate]
    let serverKey: PrivateKey
    let rootFile: String
    let serverChainFile: String
    let serverKeyFile: String

    init(_ directory: TemporaryDirectory) throws {
        self.directory = directory
        pki = try FixturePKI(dnsConstraints: ["localhost"])
        let (leaf, key) = try pki.leaf(names: [.dns("localhost")], usages: [.serverAuth])
        serverChain = [leaf, pki.intermediate]
        serverKey = key
        rootFile = try directory.write("root.pem", pki.root.pemEncoded)
        serverChainFile = try directory.write("server.pem", leaf.pemEncoded + pki.intermediate.pemEncoded)
        serverKeyFile = try directory.write("server-key.pem", try key.pemEncoded())
    }

    /// A client certificate for `spiffe://acme.internal/<path>`: chain and key in memory and as files.
    func client(_ path: String) throws -> (chain: [Certificate], key: PrivateKey, chainFile: String, keyFile: String) {
        let (leaf, key) = try pki.leaf(names: [.uri("spiffe://acme.internal/\(path)")], usages: [.clientAuth])
        let name = path.replacingOccurrences(of: "/", with: "-")
        return (
            [leaf, pki.intermediate], key,
            try directory.write("\(name).pem", leaf.pemEncoded + pki.intermediate.pemEncoded),
            try directory.write("\(name)-key.pem", try key.pemEncoded())
        )
    }

    func serverContext(_ mode: TLSConfiguration.ClientAuthentication = .require) throws -> TLSContext {
        try TLSContext(
            configuration: .makeServerConfigurationWithMTLS(
                certificateChain: serverChain, privateKey: serverKey, trustBundle: [pki.root],
                clientAuthentication: mode))
    }

    func clientContext(certificate: (chain: [Certificate], key: PrivateKey)?) throws -> TLSContext {
        if let certificate {
            return try TLSContext(
                configuration: .makeClientConfigurationWithMTLS(
                    certificateChain: certificate.chain, privateKey: certificate.key, trustBundle: [pki.root],
                    expectedServerNames: [.dns("localhost")]))
        }
        return try TLSContext(
            configuration: TLSConfiguration(
                role: .client, trustBundle: [pki.root], expectedServerNames: [.dns("localhost")]))
    }
}

@Suite("HTTPServer with mTLS: the handler sees the verified identity")
struct HTTPServerMTLSTests {
    let directory = TemporaryDirectory("symbolon-http-service-tls")
    let fixture: TLSFixture

    init() throws { fixture = try TLSFixture(directory) }

    func serve(_ mode: TLSConfiguration.ClientAuthentication) throws -> (HTTPServer, Int) {
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(tls: try fixture.serverContext(mode)), threads: 1
        ) { request, responder in
            responder.respond(
                HTTPResponse(
                    text:
                        "spiffe=\(request.peer?.spiffeID?.description ?? "none") peer=\(request.peer?.description ?? "-")"
                ))
        }
        let bound = try server.listen(on: try SocketAddress.parse("127.0.0.1:0"))
        return (server, bound.port ?? 0)
    }

    func curlTLS(port: Int, certificate: (chainFile: String, keyFile: String)?) throws -> ProcessResult {
        var arguments = [
            "--cacert", fixture.rootFile, "--resolve", "localhost:\(port):127.0.0.1",
        ]
        if let certificate { arguments += ["--cert", certificate.chainFile, "--key", certificate.keyFile] }
        return try curl(arguments + ["https://localhost:\(port)/whoami"])
    }

    @Test("curl with a client certificate: the handler gets its SPIFFE ID")
    func withCertificate() throws {
        let (server, port) = try serve(.require)
        defer { server.shutdown() }
        let client = try fixture.client("ns/ca/sa/agent")
        let result = try curlTLS(port: port, certificate: (client.chainFile, client.keyFile))
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("spiffe=spiffe://acme.internal/ns/ca/sa/agent"), "\(result)")
    }

    @Test("curl without a certificate is refused in the handshake and never reaches the handler")
    func withoutCertificate() throws {
        let refusals = Mutex<[String]>([])
        let reached = Atomic<Int>(0)
        var configuration = HTTPServerConfiguration(tls: try fixture.serverContext(.require))
        configuration.onRefusal = { _, error in refusals.withLock { $0.append("\(error)") } }
        let server = try HTTPServer(configuration: configuration, threads: 1) { _, responder in
            reached.add(1, ordering: .relaxed)
            responder.respond(HTTPResponse(text: "should not happen"))
        }
        defer { server.shutdown() }
        let port = try server.listen(on: try SocketAddress.parse("127.0.0.1:0")).port ?? 0
        let result = try curlTLS(port: port, certificate: nil)
        #expect(result.status != 0, "\(result)")
        #expect(result.stderr.lowercased().contains("certificate required"), "\(result)")
        #expect(reached.load(ordering: .relaxed) == 0)
        for _ in 0..<500 where refusals.withLock({ $0.isEmpty }) { usleep(10_000) }
        #expect(
            refusals.withLock { $0.contains { $0.contains("presented no certificate") } }, "\(refusals.withLock { $0 })"
        )
    }

    @Test("in request mode a client without a certificate is served as unauthenticated")
    func requestMode() throws {
        let (server, port) = try serve(.request)
        defer { server.shutdown() }
        let result = try curlTLS(port: port, certificate: nil)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("spiffe=none peer=unauthenticated"), "\(result)")
    }

    @Test("a long pipeline over mTLS (Python ssl) is answered in full and in order, each with the identity")
    func pipelineOverTLS() throws {
        let refusals = Mutex<[String]>([])
        var configuration = HTTPServerConfiguration(tls: try fixture.serverContext(.require))
        configuration.onRefusal = { _, error in refusals.withLock { $0.append("\(error)") } }
        let server = try HTTPServer(configuration: configuration, threads: 1) { request, responder in
            responder.respond(HTTPResponse(text: "path=\(request.path) peer=\(request.peer?.description ?? "-")"))
        }
        defer { server.shutdown() }
        let port = try server.listen(on: try SocketAddress.parse("127.0.0.1:0")).port ?? 0
        let client = try fixture.client("ns/ca/sa/agent")
        let script = """
            import select, socket, ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.load_verify_locations('\(fixture.rootFile)')
            context.load_cert_chain('\(client.chainFile)', '\(client.keyFile)')
            raw = socket.create_connection(('127.0.0.1', \(port)), timeout=20)
            s = context.wrap_socket(raw, server_hostname='localhost')
            count = 2000
            payload = b''.join(b'GET /n/%d HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' % i for i in range(count))
            payload += b'GET /last HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'
            # One thread, non-blocking: an ssl socket must not be read and written from two threads at once.
            s.setblocking(False)
            sent, data, done = 0, b'', False
            while not done:
                readable, writable, _ = select.select([s], [s] if sent < len(payload) else [], [], 20)
                if not readable and not writable:
                    break
                if writable:
                    try:
                        sent += s.send(payload[sent:sent + 16384])
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                        pass
                if readable:
                    try:
                        while True:
                            chunk = s.recv(65536)
                            if not chunk:
                                done = True
                                break
                            data += chunk
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                        pass
                    except ssl.SSLZeroReturnError:
                        done = True
            lines = [line for line in data.decode().split('\\n') if line.startswith('path=')]
            expected = ['path=/n/%d peer=spiffe://acme.internal/ns/ca/sa/agent' % i for i in range(count)]
            expected.append('path=/last peer=spiffe://acme.internal/ns/ca/sa/agent')
            print('in order' if lines == expected else 'wrong: %d lines' % len(lines))
            """
        let result = try ProcessRunner.run("/usr/bin/python3", ["-c", script], timeout: 60)
        #expect(result.stdout == "in order\n", "\(result) \(refusals.withLock { $0 })")
    }
}
