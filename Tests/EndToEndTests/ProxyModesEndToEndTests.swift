import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy server: --client-auth request, --proxy-protocol, and draining on SIGTERM")
    struct Modes {
        static func policyFile(_ scratch: TemporaryDirectory, allowUnauthenticated: Bool) throws -> String {
            try scratch.write(
                "policy.json",
                """
                {"allowUnauthenticated": \(allowUnauthenticated), "rules": [{"name": "payments", "spiffeId": "\(ProxyPKI.allowedPattern)"}]}
                """)
        }

        @Test(
            "--client-auth request with a policy allowing unauthenticated clients: curl without a certificate gets in (identity unauthenticated); one with a certificate is still judged by the rules"
        )
        func requestAllowsUnauthenticated() throws {
            let pki = try ProxyPKI.shared.get()
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-request")
            let backend = try Backend("http")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + [
                    "--client-auth", "request", "--policy", try Self.policyFile(scratch, allowUnauthenticated: true),
                ])
            defer { proxy.stop() }

            let anonymous = try Curl.get(proxy.url, as: nil, ca: pki.ca.root)
            #expect(anonymous.status == 0 && anonymous.stdout.contains("hello from the backend"), "\(anonymous)")
            let line = proxy.connection()
            #expect(line?.decision == "allowed", "\(proxy.logText)")
            #expect(line?.identity == "unauthenticated", "\(proxy.logText)")

            var mark = proxy.log.count
            let client = try Curl.get(proxy.url, as: pki.client, ca: pki.ca.root)
            #expect(client.status == 0 && client.stdout.contains("hello from the backend"), "\(client)")
            #expect(proxy.connection(from: mark)?.identity == ProxyPKI.clientID, "\(proxy.logText)")

            mark = proxy.log.count
            let outsider = try Curl.get(proxy.url, as: pki.outsider, ca: pki.ca.root)
            #expect(outsider.status != 0 && !outsider.stdout.contains("hello"), "\(outsider)")
            #expect(proxy.connection(from: mark)?.decision == "denied", "\(proxy.logText)")
        }

        @Test(
            "--client-auth request with a policy that does not allow unauthenticated clients refuses curl without a certificate"
        )
        func requestRefusesUnauthenticated() throws {
            let pki = try ProxyPKI.shared.get()
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-request")
            let backend = try Backend("http")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + [
                    "--client-auth", "request", "--policy", try Self.policyFile(scratch, allowUnauthenticated: false),
                ])
            defer { proxy.stop() }
            let anonymous = try Curl.get(proxy.url, as: nil, ca: pki.ca.root)
            #expect(anonymous.status != 0 && !anonymous.stdout.contains("hello"), "\(anonymous)")
            let line = proxy.connection()
            #expect(line?.decision == "denied", "\(proxy.logText)")
            #expect(line?.identity == "unauthenticated" || line?.identity == "-", "\(proxy.logText)")
            #expect(line?.reason.contains("unauthenticated") == true, "\(proxy.logText)")
        }

        @Test(
            "--proxy-protocol: the backend receives a PROXY v2 header (signature, 0x21, 0x11 for IPv4, the client's address) with TLV 0xE0 holding the client's SPIFFE ID"
        )
        func proxyProtocol() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("http", proxyProtocol: true)
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--proxy-protocol",
                ])
            defer { proxy.stop() }
            let result = try Curl.get(proxy.url, as: pki.client, ca: pki.ca.root)
            try #require(result.status == 0, "\(result)\n\(backend.run.text(.stdout))")
            let report = try #require(
                result.stdout.split(separator: "\n").first { $0.hasPrefix("PROXY ") }, "no header: \(result)")
            let header = try #require(
                try JSONSerialization.jsonObject(with: Data(report.dropFirst(6).utf8)) as? [String: Any])
            #expect(header["signature"] as? Bool == true, "\(header)")
            #expect(header["verCmd"] as? String == "21", "\(header)")
            #expect(header["family"] as? String == "11", "\(header)")
            #expect(header["identity"] as? String == ProxyPKI.clientID, "\(header)")
            #expect((header["tlvTypes"] as? [String])?.contains("e0") == true, "\(header)")
            // The source is the client as the proxy saw it; the destination is the proxy's listener.
            let peer = proxy.connection()?["peer"]
            #expect(header["src"] as? String == peer, "\(header) vs peer \(String(describing: peer))")
            #expect(header["dst"] as? String == proxy.address, "\(header)")
        }

        @Test(
            "SIGTERM with one open connection: 'draining', new connections refused, the open one keeps working until it closes, then 'stopped' and exit 0"
        )
        func drain() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("echo")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--drain-timeout", "20s",
                ])
            defer { proxy.stop() }
            let tls = ProxyTools.tls(pki.client, ca: pki.ca.root)
            let holder = try ProxyTools.start(["interactive", proxy.address] + tls)
            defer { holder.forceKill() }
            try #require(holder.waitForLine(.stdout) { $0 == "connected" } != nil, "\(holder.text(.stdout))")
            holder.send("echo before")
            try #require(holder.waitForLine(.stdout) { $0 == "echo before" } != nil, "\(holder.text(.stdout))")

            proxy.run.signal(SIGTERM)
            try #require(proxy.event("draining") != nil, "\(proxy.logText)")
            let refused = try ProxyTools.echo(proxy.address, "late", tls)
            #expect(refused.status != 0 && refused.stdout.contains("ConnectionRefused"), "\(refused)")

            holder.send("echo during")
            #expect(holder.waitForLine(.stdout) { $0 == "echo during" } != nil, "\(holder.text(.stdout))")
            usleep(500_000)
            #expect(proxy.run.isRunning, "the proxy must wait for the open connection:\n\(proxy.logText)")
            #expect(proxy.event("stopped", timeout: 0.1) == nil, "\(proxy.logText)")

            holder.send("quit")
            let status = proxy.run.waitForExit(timeout: 10)
            #expect(status == 0, "exit \(String(describing: status)):\n\(proxy.logText)")
            #expect(proxy.event("stopped", timeout: 1) != nil, "\(proxy.logText)")
            #expect(proxy.connection()?.decision == "allowed", "\(proxy.logText)")
        }

        @Test(
            "SIGTERM with a connection that never closes: the proxy gives up after --drain-timeout, logs 'stopped' and exits 0"
        )
        func drainTimeout() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("echo")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--drain-timeout", "1s",
                ])
            defer { proxy.stop() }
            let holder = try ProxyTools.start(
                ["interactive", proxy.address] + ProxyTools.tls(pki.client, ca: pki.ca.root))
            defer { holder.forceKill() }
            try #require(holder.waitForLine(.stdout) { $0 == "connected" } != nil, "\(holder.text(.stdout))")
            holder.send("echo before")
            try #require(holder.waitForLine(.stdout) { $0 == "echo before" } != nil, "\(holder.text(.stdout))")
            let started = Date()
            proxy.run.signal(SIGTERM)
            let status = proxy.run.waitForExit(timeout: 8)
            let elapsed = Date().timeIntervalSince(started)
            #expect(status == 0, "exit \(String(describing: status)) after \(elapsed) s:\n\(proxy.logText)")
            #expect(elapsed >= 0.9, "stopped before the 1 s drain timeout: \(elapsed) s")
            #expect(proxy.event("stopped", timeout: 1) != nil, "\(proxy.logText)")
            holder.send("wait-eof 3")
            let closed = holder.waitForLine(.stdout) { $0.hasPrefix("eof") || $0.hasPrefix("error") }
            #expect(closed != nil, "the held connection must be closed when the proxy exits: \(holder.text(.stdout))")
        }

        @Test(
            "--client-auth request with allowUnauthenticated: a client presenting a bad certificate (other CA, expired, serverAuth-only) is denied, never downgraded to unauthenticated"
        )
        func requestNeverDowngradesABadCertificate() throws {
            let pki = try ProxyPKI.shared.get()
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-request")
            let backend = try Backend("http")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + [
                    "--client-auth", "request", "--policy", try Self.policyFile(scratch, allowUnauthenticated: true),
                ])
            defer { proxy.stop() }
            for (leaf, reason) in [
                (pki.foreign, "unknownIssuer"), (pki.expired, "expired"), (pki.serverOnly, "wrongPurpose"),
            ] {
                let mark = proxy.log.count
                let result = try Curl.get(proxy.url, as: leaf, ca: pki.ca.root)
                #expect(result.status != 0 && !result.stdout.contains("hello"), "\(leaf.cert): \(result)")
                let line = proxy.connection(from: mark)
                #expect(line?.decision == "denied" && line?.reason.contains(reason) == true, "\(proxy.logText)")
                #expect(line?.identity != "unauthenticated", "\(proxy.logText)")
            }
        }
    }
}
