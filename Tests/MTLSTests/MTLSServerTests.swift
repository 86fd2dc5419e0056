import Foundation
import MTLS
import NetCore
import Synchronization
import TLS
import TestSupport
import Testing
import X509

@Suite("MTLSServer: a service terminating mTLS itself, with a real client (Python's ssl)")
struct MTLSServerTests {
    let directory = TemporaryDirectory("symbolon-mtls-server")
    let pki: FixturePKI
    let server: MTLSServer
    let refusals = Refusals()

    final class Refusals: Sendable {
        let list = Mutex<[String]>([])
        func withLock<T>(_ body: (inout [String]) -> T) -> T { list.withLock { body(&$0) } }
    }

    init() throws {
        pki = try FixturePKI(dnsConstraints: ["localhost"])
        let (leaf, key) = try pki.leaf(names: [.dns("localhost")], usages: [.serverAuth])
        let refusals = self.refusals
        server = try MTLSServer(
            configuration: .makeServerConfigurationWithMTLS(
                certificateChain: [leaf, pki.intermediate], privateKey: key, trustBundle: [pki.root]),
            authorizer: { peer in
                peer.spiffeID?.path.hasPrefix("/ns/payments/") == true ? .allow("payments") : .deny("not payments")
            },
            threads: 1, onRefusal: { _, error in refusals.withLock { $0.append("\(error)") } })
    }

    func client(_ name: String) throws -> (chain: String, key: String) {
        let (leaf, key) = try pki.leaf(names: [.uri("spiffe://acme.internal/ns/\(name)")], usages: [.clientAuth])
        return (
            try directory.write(
                "\(name.replacingOccurrences(of: "/", with: "-")).pem", leaf.pemEncoded + pki.intermediate.pemEncoded),
            try directory.write("\(name.replacingOccurrences(of: "/", with: "-"))-key.pem", try key.pemEncoded())
        )
    }

    /// Connects with Python's ssl, sends "ping\n", prints every line received until the server closes (bounded).
    func python(port: Int, certificate: (chain: String, key: String)?) throws -> ProcessResult {
        let root = try directory.write("root.pem", pki.root.pemEncoded)
        let load = certificate.map { "context.load_cert_chain('\($0.chain)', '\($0.key)')" } ?? ""
        let script = """
            import socket, ssl, sys
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.load_verify_locations('\(root)')
            \(load)
            with socket.create_connection(('127.0.0.1', \(port)), timeout=10) as raw:
                with context.wrap_socket(raw, server_hostname='localhost') as tls:
                    tls.sendall(b'ping\\n')
                    data = b''
                    while b'ping' not in data:
                        chunk = tls.recv(4096)
                        if not chunk: break
                        data += chunk
                    print(data.decode())
            """
        return try ProcessRunner.run("/usr/bin/python3", ["-c", script], timeout: 20)
    }

    @Test("an admitted client is greeted by its verified identity and echoed")
    func admitted() throws {
        defer { server.shutdown() }
        let bound = try server.listen(on: try SocketAddress.parse("127.0.0.1:0")) { connection in
            connection.write("hello \(connection.peer) by \(connection.authorization ?? "-")\n")
            connection.onRead = { connection, bytes in connection.write(Array(bytes)) }
        }
        let result = try python(port: bound.port ?? 0, certificate: try client("payments/api"))
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("hello spiffe://acme.internal/ns/payments/api by payments"))
        #expect(result.stdout.contains("ping"))
    }

    @Test("a client the authorizer denies never reaches the handler, and the refusal says why")
    func denied() throws {
        defer { server.shutdown() }
        let reached = Atomic<Int>(0)
        let bound = try server.listen(on: try SocketAddress.parse("127.0.0.1:0")) { connection in
            reached.add(1, ordering: .relaxed)
            connection.close()
        }
        let result = try python(port: bound.port ?? 0, certificate: try client("web/frontend"))
        #expect(result.status != 0)
        #expect(result.stderr.contains("ACCESS_DENIED") || result.stderr.contains("access denied"), "\(result)")
        #expect(reached.load(ordering: .relaxed) == 0)
        for _ in 0..<100 where refusals.withLock({ $0.isEmpty }) { usleep(10_000) }
        #expect(refusals.withLock { $0.contains { $0.contains("not payments") } })
    }

    @Test("a client without a certificate is refused in the handshake")
    func noCertificate() throws {
        defer { server.shutdown() }
        let bound = try server.listen(on: try SocketAddress.parse("127.0.0.1:0")) { $0.close() }
        let result = try python(port: bound.port ?? 0, certificate: nil)
        #expect(result.status != 0)
        #expect(result.stderr.lowercased().contains("certificate required"), "\(result)")
    }
}
