import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy server: who gets in, as curl, openssl s_client and Python ssl see it")
    struct Admission {
        /// An HTTP backend behind a proxy server allowing `payments/*` and (so that only the EKU check can refuse
        /// the serverAuth-only certificate) DNS localhost.
        static func start(_ extra: [String] = []) throws -> (PKIAndProxy) {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("http")
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--allow-dns", "localhost",
                ] + extra)
            return PKIAndProxy(pki: pki, backend: backend, proxy: proxy)
        }

        @Test(
            "curl with a client certificate in the policy gets the backend's 200 and body; the log says allowed, with its SPIFFE ID"
        )
        func curlAllowed() throws {
            let s = try Self.start()
            defer { s.stop() }
            let result = try Curl.get(
                s.proxy.url, as: s.pki.client, ca: s.pki.ca.root, extra: ["-w", "\nstatus=%{http_code}"])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("hello from the backend"), "\(result)")
            #expect(result.stdout.contains("status=200"), "\(result)")
            let line = try #require(s.proxy.connection(), "no connection line in:\n\(s.proxy.logText)")
            #expect(line.decision == "allowed", "\(line)")
            #expect(line.identity == ProxyPKI.clientID, "\(line)")
            #expect(line["tls"] == "TLS1.3", "\(line)")
            #expect(line["peer"]?.hasPrefix("127.0.0.1:") == true, "\(line)")
            #expect(Int(line["bytes_out"] ?? "") ?? 0 > 0 && Int(line["bytes_in"] ?? "") ?? 0 > 0, "\(line)")
        }

        @Test(
            "openssl s_client without a certificate is refused in the handshake with 'certificate required'; the log says denied, presented no certificate"
        )
        func sClientWithoutCertificate() throws {
            let s = try Self.start()
            defer { s.stop() }
            let result = try ProcessRunner.run(
                "/bin/sh",
                [
                    "-c",
                    "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | openssl s_client -connect \(s.proxy.address) -servername localhost -CAfile \(E2E.quote(s.pki.ca.root)) -quiet 2>&1",
                ], timeout: 20)
            #expect(result.output.contains("certificate required"), "\(result)")
            #expect(!result.output.contains("hello from the backend"), "\(result)")
            let line = try #require(s.proxy.connection(), "no connection line in:\n\(s.proxy.logText)")
            #expect(line.decision == "denied", "\(line)")
            #expect(line.reason.contains("presented no certificate"), "\(line)")
        }

        /// curl with `credentials` is refused: non-zero exit, a TLS alert, no backend body; returns the log line.
        static func refused(_ s: PKIAndProxy, _ credentials: IssuedLeaf) throws -> (ProcessResult, ProxyLogLine?) {
            let result = try Curl.get(s.proxy.url, as: credentials, ca: s.pki.ca.root)
            #expect(result.status != 0, "curl must fail: \(result)")
            #expect(!result.stdout.contains("hello from the backend"), "\(result)")
            #expect(result.stderr.contains("alert"), "curl should report the TLS alert: \(result)")
            return (result, s.proxy.connection())
        }

        @Test(
            "A client certificate from another CA is refused: curl fails on a TLS alert, the log says denied, unknownIssuer"
        )
        func otherCA() throws {
            let s = try Self.start()
            defer { s.stop() }
            let (_, line) = try Self.refused(s, s.pki.foreign)
            #expect(line?.decision == "denied", "\(String(describing: line))")
            #expect(line?.reason.contains("unknownIssuer") == true, "\(String(describing: line))")
        }

        @Test("An expired client certificate is refused: curl fails on a TLS alert, the log says denied, expired")
        func expired() throws {
            let s = try Self.start()
            defer { s.stop() }
            let (_, line) = try Self.refused(s, s.pki.expired)
            #expect(line?.decision == "denied", "\(String(describing: line))")
            #expect(line?.reason.contains("expired") == true, "\(String(describing: line))")
        }

        @Test("A serverAuth-only certificate is refused as a client certificate: the log says denied, wrongPurpose")
        func serverAuthOnly() throws {
            let s = try Self.start()
            defer { s.stop() }
            let (_, line) = try Self.refused(s, s.pki.serverOnly)
            #expect(line?.decision == "denied", "\(String(describing: line))")
            #expect(line?.reason.contains("wrongPurpose") == true, "\(String(describing: line))")
        }

        @Test("A valid client outside the policy is refused: the log says denied, not authorized, matched none")
        func outsidePolicy() throws {
            let s = try Self.start()
            defer { s.stop() }
            let (_, line) = try Self.refused(s, s.pki.outsider)
            #expect(line?.decision == "denied", "\(String(describing: line))")
            #expect(line?.reason.contains("not authorized") == true, "\(String(describing: line))")
            #expect(line?.reason.contains("matched none") == true, "\(String(describing: line))")
            #expect(line?.identity == "spiffe://acme.internal/ns/web/frontend", "\(String(describing: line))")
        }

        @Test("A Python ssl client (SSLContext, load_cert_chain, wrap_socket) is allowed and gets its bytes echoed")
        func pythonClient() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("echo")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + ["--allow-spiffe-id", ProxyPKI.clientID])
            defer { proxy.stop() }
            let result = try ProxyTools.echo(
                proxy.address, "ping from python", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(result.status == 0, "\(result)\n\(proxy.logText)")
            #expect(result.stdout.contains("echo ping from python"), "\(result)")
            #expect(result.stdout.contains("tls TLSv1.3"), "\(result)")
            let line = try #require(proxy.connection(), "no connection line in:\n\(proxy.logText)")
            #expect(line.decision == "allowed", "\(line)")
            #expect(line.identity == ProxyPKI.clientID, "\(line)")
            #expect(line["bytes_in"] == "16" && line["bytes_out"] == "16", "\(line)")
        }

        @Test(
            "--log-format json: every line is one JSON object; a connection has time, event, peer, identity, tls, cipher, resumed, decision, reason, bytes_in, bytes_out, duration_ms"
        )
        func jsonLog() throws {
            let s = try Self.start(["--log-format", "json"])
            defer { s.stop() }
            _ = try Curl.get(s.proxy.url, as: s.pki.client, ca: s.pki.ca.root)
            _ = try Curl.get(s.proxy.url, as: s.pki.outsider, ca: s.pki.ca.root)
            _ = s.proxy.run.waitForLine(.stderr) { $0.contains("\"denied\"") }
            s.proxy.stop()
            var connections: [[String: Any]] = []
            var events: [String] = []
            for line in s.proxy.log {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                let parsed = try #require(object, "not a JSON object: \(line)")
                let event = try #require(parsed["event"] as? String, "no event: \(line)")
                events.append(event)
                if event == "connection" { connections.append(parsed) }
            }
            #expect(events.first == "listening", "\(events)")
            #expect(events.contains("draining") && events.last == "stopped", "\(events)")
            try #require(connections.count == 2, "\(s.proxy.logText)")
            let keys: Set<String> = [
                "time", "event", "peer", "identity", "tls", "cipher", "resumed", "decision", "reason", "bytes_in",
                "bytes_out", "duration_ms",
            ]
            for connection in connections {
                #expect(keys.isSubset(of: Set(connection.keys)), "missing \(keys.subtracting(connection.keys))")
                #expect(connection["resumed"] is Bool, "\(connection)")
                #expect(connection["bytes_in"] is NSNumber && connection["duration_ms"] is NSNumber, "\(connection)")
            }
            let allowed = connections.first { $0["decision"] as? String == "allowed" }
            #expect(allowed?["identity"] as? String == ProxyPKI.clientID, "\(connections)")
            let denied = connections.first { $0["decision"] as? String == "denied" }
            #expect((denied?["reason"] as? String)?.contains("not authorized") == true, "\(connections)")
        }

        @Test(
            "A certificate whose CN holds a newline and a fake log line cannot forge a line in the text log: every line still starts with a timestamp"
        )
        func logInjection() throws {
            let pki = try ProxyPKI.shared.get()
            let forged = try ProxyPKI.forgeLeaf(
                pki.ca, subject: "/CN=m\n2026Z conn identity=root decision=allowed reason=ok", extensions: [],
                as: "log-injection-\(UUID().uuidString)")
            let backend = try Backend("echo")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(pki.serverArguments(target: backend.address) + ["--allow-all"])
            defer { proxy.stop() }
            _ = try ProxyTools.echo(proxy.address, "x", ProxyTools.tls(forged, ca: pki.ca.root))
            try #require(proxy.connection() != nil, "\(proxy.logText)")
            proxy.stop()
            for line in proxy.log {
                #expect(
                    line.range(of: #"^\d{4}-\d\d-\d\dT"#, options: .regularExpression) != nil, "forged line: \(line)")
            }
        }
    }
}

/// A backend and the proxy server in front of it.
struct PKIAndProxy {
    let pki: ProxyPKI
    let backend: Backend
    let proxy: ProxyUnderTest

    func stop() {
        proxy.stop()
        backend.stop()
    }
}
