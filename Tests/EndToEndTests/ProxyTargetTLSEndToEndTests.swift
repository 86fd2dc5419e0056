import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy server with TLS to the target (--target-ca)")
    struct TargetTLS {
        @Test(
            "client → proxy server A → mTLS → proxy server B → backend: B admits A by A's certificate; A refuses a target that does not carry the expected SPIFFE ID (decision=failed, nameMismatch)"
        )
        func reencryption() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("echo")
            defer { backend.stop() }
            // B: an mTLS server that admits only the proxy's own identity.
            let inner = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + ["--allow-spiffe-id", ProxyPKI.serverID])
            defer { inner.stop() }
            // A: admits the client, re-encrypts to B, presenting pki.server and expecting B's identity.
            let outer = try ProxyUnderTest.server(
                pki.serverArguments(target: inner.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--target-ca", pki.ca.root,
                    "--target-verify-spiffe-id", ProxyPKI.serverID,
                ])
            defer { outer.stop() }
            let result = try ProxyTools.echo(outer.address, "re-encrypted", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(result.stdout.contains("echo re-encrypted"), "\(result)\n\(outer.logText)\n\(inner.logText)")
            #expect(outer.connection()?.identity == ProxyPKI.clientID, "\(outer.logText)")
            #expect(inner.connection()?.identity == ProxyPKI.serverID, "B sees the proxy's identity: \(inner.logText)")

            // A proxy expecting another identity at the target refuses B.
            let wrong = try ProxyUnderTest.server(
                pki.serverArguments(target: inner.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--target-ca", pki.ca.root,
                    "--target-verify-spiffe-id", ProxyPKI.impostorID,
                ])
            defer { wrong.stop() }
            let refused = try ProxyTools.echo(wrong.address, "nope", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(!refused.stdout.contains("echo nope"), "\(refused)")
            let line = wrong.connection()
            #expect(line?.decision == "failed", "\(wrong.logText)")
            #expect(line?.reason.contains("TLS to the target failed") == true, "\(wrong.logText)")
            #expect(line?.reason.contains("nameMismatch") == true, "\(wrong.logText)")
        }

        @Test(
            "--target-verify-spiffe-id without --target-ca, or --target-ca without an expected identity, is a usage error"
        )
        func usage() throws {
            let pki = try ProxyPKI.shared.get()
            let base = pki.serverArguments(target: "127.0.0.1:9") + ["--allow-all"]
            let noCA = try E2E.symbolon(["proxy", "server"] + base + ["--target-verify-dns", "localhost"])
            #expect(noCA.status == 2 && noCA.stderr.contains("--target-ca"), "\(noCA)")
            let noName = try E2E.symbolon(["proxy", "server"] + base + ["--target-ca", pki.ca.root])
            #expect(noName.status == 2 && noName.stderr.contains("--target-verify"), "\(noName)")
        }
    }
}
