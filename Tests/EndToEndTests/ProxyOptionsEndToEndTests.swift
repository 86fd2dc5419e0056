import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite(
        "proxy options: --min-tls, --client-auth none/require, PROXY v2 over IPv6 and unix, JSON lifecycle events, proxy client failures and reload"
    )
    struct Options {
        @Test(
            "TLS 1.2 clients are refused by default (TLS 1.3 only) and admitted with --min-tls 1.2 (logged tls=TLS1.2)")
        func minimumTLSVersion() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("http")
            defer { backend.stop() }
            let strict = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + ["--allow-spiffe-id", ProxyPKI.allowedPattern])
            defer { strict.stop() }
            let refused = try Curl.get(strict.url, as: pki.client, ca: pki.ca.root, extra: ["--tls-max", "1.2"])
            #expect(refused.status != 0 && !refused.stdout.contains("hello"), "\(refused)")
            #expect(strict.connection()?.decision == "failed", "\(strict.logText)")

            let lenient = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--min-tls", "1.2",
                ])
            defer { lenient.stop() }
            let admitted = try Curl.get(lenient.url, as: pki.client, ca: pki.ca.root, extra: ["--tls-max", "1.2"])
            #expect(admitted.status == 0 && admitted.stdout.contains("hello from the backend"), "\(admitted)")
            let line = lenient.connection()
            #expect(line?["tls"] == "TLS1.2" && line?.identity == ProxyPKI.clientID, "\(lenient.logText)")
        }

        @Test(
            "--client-auth none needs no allow rule and admits a client without a certificate (identity unauthenticated)"
        )
        func clientAuthNone() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("http")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + ["--client-auth", "none"])
            defer { proxy.stop() }
            let anonymous = try Curl.get(proxy.url, as: nil, ca: pki.ca.root)
            #expect(anonymous.status == 0 && anonymous.stdout.contains("hello from the backend"), "\(anonymous)")
            #expect(proxy.connection()?.decision == "allowed", "\(proxy.logText)")
        }

        @Test(
            "--client-auth none --allow-all admits a client without a certificate")
        func clientAuthNoneAllowAll() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("http")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + ["--client-auth", "none", "--allow-all"])
            defer { proxy.stop() }
            let anonymous = try Curl.get(proxy.url, as: nil, ca: pki.ca.root)
            #expect(anonymous.status == 0 && anonymous.stdout.contains("hello from the backend"), "\(anonymous)")
            #expect(proxy.connection()?.decision == "allowed", "\(proxy.logText)")
        }

        @Test(
            "In the default require mode a policy allowing unauthenticated clients still does not let in a client without a certificate"
        )
        func requireIgnoresAllowUnauthenticated() throws {
            let pki = try ProxyPKI.shared.get()
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-require")
            let policy = try scratch.write("policy.json", #"{"allowUnauthenticated": true, "rules": [{"any": true}]}"#)
            let backend = try Backend("http")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(pki.serverArguments(target: backend.address) + ["--policy", policy])
            defer { proxy.stop() }
            let anonymous = try Curl.get(proxy.url, as: nil, ca: pki.ca.root)
            #expect(anonymous.status != 0 && !anonymous.stdout.contains("hello"), "\(anonymous)")
            #expect(anonymous.stderr.contains("certificate required"), "\(anonymous)")
            let line = proxy.connection()
            #expect(line?.decision == "denied" && line?.reason.contains("presented no certificate") == true)
        }

        @Test(
            "--proxy-protocol over an IPv6 listener sends family 0x21 with the client's [::1] address; over a unix listener, family 0x00 (UNSPEC) and still the identity TLV"
        )
        func proxyProtocolFamilies() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("echo", proxyProtocol: true)
            defer { backend.stop() }
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-pp")
            for (listen, family) in [("[::1]:0", "21"), ("unix:" + scratch.file("pp.sock"), "00")] {
                let proxy = try ProxyUnderTest.server(
                    pki.serverArguments(target: backend.address, listen: listen) + [
                        "--allow-spiffe-id", ProxyPKI.allowedPattern, "--proxy-protocol",
                    ])
                defer { proxy.stop() }
                let mark = backend.run.lines(.stdout).count
                let address = proxy.address.replacingOccurrences(of: "[", with: "").replacingOccurrences(
                    of: "]", with: "")
                // The echo comes back behind the header report, so the round trip itself is not checked here;
                // the backend prints every header it parses.
                _ = try ProxyTools.echo(address, "x", ProxyTools.tls(pki.client, ca: pki.ca.root))
                let line = try #require(
                    backend.run.waitForLine(.stdout, from: mark) { $0.hasPrefix("header ") },
                    "no header seen by the backend behind \(listen): \(backend.run.text(.stdout))")
                let header = try #require(
                    try JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as? [String: Any])
                #expect(header["signature"] as? Bool == true && header["verCmd"] as? String == "21", "\(header)")
                #expect(header["family"] as? String == family, "\(listen): \(header)")
                #expect(header["identity"] as? String == ProxyPKI.clientID, "\(listen): \(header)")
                if family == "21" {
                    #expect((header["src"] as? String)?.hasPrefix("[::1]:") == true, "\(header)")
                }
            }
        }

        @Test(
            "--log-format json: a broken file gives an event \"reload-failed\" naming it, the fix an event \"reloaded\""
        )
        func jsonLifecycleEvents() throws {
            let pki = try ProxyPKI.shared.get()
            let files = try Reload.WatchedFiles(pki: pki)
            let backend = try Backend("echo")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                files.serverArguments(target: backend.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--log-format", "json",
                ])
            defer { proxy.stop() }
            var mark = proxy.log.count
            try replaceFile(files.key, with: "not a key\n")
            let failed = proxy.run.waitForLine(.stderr, from: mark) { $0.contains(#""event":"reload-failed""#) }
            #expect(failed?.contains("server-key.pem") == true, "\(proxy.logText)")
            mark = proxy.log.count
            try replaceFile(files.key, with: E2E.read(pki.server.key))
            let reloaded = proxy.run.waitForLine(.stderr, from: mark) { $0.contains(#""event":"reloaded""#) }
            #expect(reloaded != nil, "\(proxy.logText)")
            for line in proxy.log {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["time"] is String && object?["event"] is String, "\(line)")
            }
        }

        /// A proxy client in front of a proxy server that presents `serverCertificate` and trusts `serverBundle`.
        static func proxyClient(target: String, _ extra: [String] = []) throws -> ProxyUnderTest {
            let pki = try ProxyPKI.shared.get()
            return try ProxyUnderTest.client(
                [
                    "--listen", "127.0.0.1:0", "--target", target, "--cert", pki.client.cert, "--key", pki.client.key,
                    "--ca", pki.ca.root, "--verify-spiffe-id", ProxyPKI.serverID,
                ] + extra)
        }

        @Test(
            "proxy client with its upstream down: the plain client's connection is closed, the log says failed, cannot connect"
        )
        func proxyClientUpstreamDown() throws {
            let probe = try Backend("echo")
            let address = probe.address
            probe.stop()
            let client = try Self.proxyClient(target: address)
            defer { client.stop() }
            let result = try ProxyTools.echo(client.address, "anyone", ["--plain"])
            #expect(result.status != 0, "\(result)")
            let line = client.connection()
            #expect(line?.decision == "failed" && line?.reason.contains("cannot connect") == true, "\(client.logText)")
        }

        @Test(
            "proxy client refuses an upstream whose certificate chains to another CA (unknownIssuer), even with the expected SPIFFE ID"
        )
        func proxyClientForeignUpstream() throws {
            let pki = try ProxyPKI.shared.get()
            let impostor = try pki.otherCA.issue(
                "service", ["--spiffe-id", ProxyPKI.serverID, "--dns", "localhost"],
                as: "foreign-server-\(UUID().uuidString)")
            let backend = try Backend("echo")
            defer { backend.stop() }
            let server = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address, certificate: impostor) + ["--allow-all"])
            defer { server.stop() }
            let client = try Self.proxyClient(target: server.address)
            defer { client.stop() }
            let result = try ProxyTools.echo(client.address, "secret", ["--plain"])
            #expect(!result.stdout.contains("echo secret"), "\(result)")
            let line = client.connection()
            #expect(line?.decision == "denied" && line?.reason.contains("unknownIssuer") == true, "\(client.logText)")
        }

        @Test("proxy client reloads its own certificate: after the files change, the server sees the new identity")
        func proxyClientReload() throws {
            let pki = try ProxyPKI.shared.get()
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-client-reload")
            let chain = scratch.file("client.pem")
            let key = scratch.file("client-key.pem")
            try replaceFile(chain, with: E2E.read(pki.client.cert))
            try replaceFile(key, with: E2E.read(pki.client.key))
            let backend = try Backend("echo")
            defer { backend.stop() }
            let server = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + ["--allow-spiffe-id", ProxyPKI.allowedPattern])
            defer { server.stop() }
            let client = try ProxyUnderTest.client([
                "--listen", "127.0.0.1:0", "--target", server.address, "--cert", chain, "--key", key, "--ca",
                pki.ca.root, "--verify-spiffe-id", ProxyPKI.serverID,
            ])
            defer { client.stop() }
            let first = try ProxyTools.echo(client.address, "first", ["--plain"])
            #expect(first.stdout.contains("echo first"), "\(first)")
            #expect(server.connection()?.identity == ProxyPKI.clientID, "\(server.logText)")

            let renamedID = "spiffe://acme.internal/ns/payments/renewed"
            let renewed = try pki.issueClient("renewed-\(UUID().uuidString)", spiffeID: renamedID)
            let mark = client.log.count
            try replaceFile(key, with: E2E.read(renewed.key))
            try replaceFile(chain, with: E2E.read(renewed.cert))
            try #require(
                client.run.waitForLine(.stderr, from: mark) {
                    $0.contains(" reloaded ") && !$0.contains("reload-failed")
                } != nil, "\(client.logText)")
            usleep(1_200_000)  // a second change (key, then chain) may be picked up one interval later
            let serverMark = server.log.count
            let second = try ProxyTools.echo(client.address, "second", ["--plain"])
            #expect(second.stdout.contains("echo second"), "\(second)\n\(client.logText)")
            #expect(server.connection(from: serverMark)?.identity == renamedID, "\(server.logText)")
        }

        @Test(
            "proxy client --handshake-timeout 1s: an upstream that accepts TCP and never speaks TLS is given up after about a second; the plain client is closed, the log says failed"
        )
        func proxyClientUpstreamHandshakeTimeout() throws {
            let silent = try Backend("stall")
            defer { silent.stop() }
            let client = try Self.proxyClient(target: silent.address, ["--handshake-timeout", "1s"])
            defer { client.stop() }
            let result = try ProxyTools.echo(client.address, "hello", ["--plain"])
            #expect(result.status != 0, "\(result)")
            let line = client.connection()
            #expect(line?.decision == "failed" && line?.reason.contains("handshake") == true, "\(client.logText)")
        }
    }
}
