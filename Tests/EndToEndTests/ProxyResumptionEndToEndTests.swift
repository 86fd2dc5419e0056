import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy server: TLS session resumption stays on, and resumed sessions are checked like new ones")
    struct Resumption {
        /// `openssl s_client` sending one line through the proxy, saving or offering a session; its output.
        static func sClient(_ proxy: ProxyUnderTest, _ leaf: IssuedLeaf, ca: String, session: String, save: Bool)
            throws -> ProcessResult
        {
            try E2E.sh(
                "(printf 'hello\\n'; sleep 1) | timeout 10 openssl s_client -connect 127.0.0.1:\(proxy.port) "
                    + "-cert \(E2E.quote(leaf.cert)) -cert_chain \(E2E.quote(leaf.cert)) -key \(E2E.quote(leaf.key)) "
                    + "-CAfile \(E2E.quote(ca)) \(save ? "-sess_out" : "-sess_in") \(E2E.quote(session)) 2>&1",
                timeout: 20)
        }

        @Test(
            "openssl s_client resumes its session (Reused, log resumed=true, same identity); after the client is revoked, the resumed session is refused too (decision=denied, revoked)"
        )
        func resumedSessionsAreRechecked() throws {
            let pki = try ProxyPKI.shared.get()
            let id = "spiffe://acme.internal/ns/payments/resumer-\(UInt32.random(in: 0...UInt32.max))"
            let client = try pki.issueClient("resumer-\(UUID().uuidString)", spiffeID: id)
            let files = try Reload.WatchedFiles(pki: pki)
            let backend = try Backend("echo")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                files.serverArguments(target: backend.address) + ["--allow-spiffe-id", ProxyPKI.allowedPattern])
            defer { proxy.stop() }
            let session = files.scratch.file("session.pem")

            let first = try Self.sClient(proxy, client, ca: pki.ca.root, session: session, save: true)
            #expect(first.stdout.contains("New, TLSv1.3"), "\(first.stdout)")
            #expect(first.stdout.contains("hello"), "\(first.stdout)")
            let full = proxy.connection { $0.identity == id }
            #expect(full?.fields["resumed"] == "false", "\(proxy.logText)")

            var mark = proxy.log.count
            let second = try Self.sClient(proxy, client, ca: pki.ca.root, session: session, save: false)
            #expect(second.stdout.contains("Reused, TLSv1.3"), "\(second.stdout)")
            #expect(second.stdout.contains("hello"), "\(second.stdout)")
            let resumed = proxy.connection(from: mark) { $0.identity == id }
            #expect(resumed?.fields["resumed"] == "true", "\(proxy.logText)")
            #expect(resumed?.decision == "allowed", "\(proxy.logText)")

            mark = proxy.log.count
            try pki.ca.revoke(serial: client.serial)
            try files.publishCRLs()
            try #require(proxy.event("reloaded", from: mark) != nil, "no reload:\n\(proxy.logText)")
            let third = try Self.sClient(proxy, client, ca: pki.ca.root, session: session, save: false)
            #expect(!third.stdout.contains("\nhello"), "a revoked client got data through: \(third.stdout)")
            let refused = proxy.connection(from: mark) { $0.decision == "denied" }
            #expect(refused?.reason.contains("revoked") == true, "\(proxy.logText)")
        }
    }
}
