import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy: bulk data, half-close, session resumption, an unreachable target, IPv6, SIGINT, unix socket cleanup")
    struct Streams {
        static func echoServer(_ extra: [String] = [], listen: String = "127.0.0.1:0") throws -> PKIAndProxy {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("echo")
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address, listen: listen) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern,
                ] + extra)
            return PKIAndProxy(pki: pki, backend: backend, proxy: proxy)
        }

        @Test("16 MiB of random bytes stream through the proxy server and back unchanged, read while being written")
        func bulkThroughServer() throws {
            let s = try Self.echoServer()
            defer { s.stop() }
            let result = try ProxyTools.run(
                ["bulk", s.proxy.address, "16"] + ProxyTools.tls(s.pki.client, ca: s.pki.ca.root), timeout: 60)
            #expect(result.stdout.hasPrefix("bulk 16777216 16777216 match"), "\(result)")
            let line = s.proxy.connection()
            #expect(line?["bytes_in"] == "16777216" && line?["bytes_out"] == "16777216", "\(s.proxy.logText)")
        }

        @Test(
            "Through proxy client → proxy server, 16 MiB come back unchanged, and a plain client's half-close (shutdown of its write side) reaches the backend while the echo still flows back"
        )
        func bulkAndHalfCloseThroughSidecars() throws {
            let s = try Self.echoServer()
            defer { s.stop() }
            let client = try ProxyUnderTest.client([
                "--listen", "127.0.0.1:0", "--target", s.proxy.address, "--cert", s.pki.client.cert, "--key",
                s.pki.client.key, "--ca", s.pki.ca.root, "--verify-spiffe-id", ProxyPKI.serverID,
            ])
            defer { client.stop() }
            let bulk = try ProxyTools.run(["bulk", client.address, "16", "--plain"], timeout: 60)
            #expect(bulk.stdout.hasPrefix("bulk 16777216 16777216 match"), "\(bulk)")
            let halfClose = try ProxyTools.run(["bulk", client.address, "1", "--plain", "--half-close"], timeout: 60)
            #expect(halfClose.stdout.hasPrefix("bulk 1048576 1048576 match"), "\(halfClose)")
        }

        @Test(
            "A resumed TLS session is logged resumed=true; once the client is revoked, resuming its session is refused too"
        )
        func resumptionHonoursRevocation() throws {
            let pki = try ProxyPKI.shared.get()
            let id = "spiffe://acme.internal/ns/payments/resumer-\(UInt32.random(in: 0...UInt32.max))"
            let resumer = try pki.issueClient("resumer-\(UUID().uuidString)", spiffeID: id)
            let files = try Reload.WatchedFiles(pki: pki)
            let backend = try Backend("http")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                files.serverArguments(target: backend.address) + ["--allow-spiffe-id", ProxyPKI.allowedPattern])
            defer { proxy.stop() }
            let session = files.scratch.file("session.pem")
            // -cert_chain: s_client sends only the leaf of -cert; the proxy needs the intermediate too.
            func sClient(_ sessionOption: String) throws -> ProcessResult {
                try E2E.sh(
                    "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | openssl s_client -connect \(proxy.address) -servername localhost -CAfile \(E2E.quote(pki.ca.root)) -cert \(E2E.quote(resumer.cert)) -cert_chain \(E2E.quote(resumer.cert)) -key \(E2E.quote(resumer.key)) \(sessionOption) \(E2E.quote(session)) -ign_eof 2>&1",
                    timeout: 20)
            }
            let first = try sClient("-sess_out")
            #expect(first.stdout.contains("hello from the backend") && first.stdout.contains("New,"), "\(first)")
            let resumed = try sClient("-sess_in")
            #expect(
                resumed.stdout.contains("hello from the backend") && resumed.stdout.contains("Reused,"), "\(resumed)")
            let lines = proxy.connectionLines
            #expect(lines.count == 2 && lines.last?["resumed"] == "true", "\(proxy.logText)")
            #expect(lines.last?.identity == id, "\(proxy.logText)")

            let mark = proxy.log.count
            try pki.ca.revoke(serial: resumer.serial)
            try files.publishCRLs()
            try #require(proxy.event("reloaded", from: mark) != nil, "\(proxy.logText)")
            let afterRevocation = try sClient("-sess_in")
            #expect(!afterRevocation.stdout.contains("hello from the backend"), "\(afterRevocation)")
            let denied = proxy.connection(from: mark) { $0.identity == id }
            #expect(denied?.decision == "denied" && denied?.reason.contains("revoked") == true, "\(proxy.logText)")
        }

        @Test(
            "An unreachable target: the admitted client's connection is closed and the log says failed, cannot connect")
        func targetDown() throws {
            let pki = try ProxyPKI.shared.get()
            // A port that was free a moment ago: bind, read the port, close.
            let probe = try Backend("echo")
            let address = probe.address
            probe.stop()
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: address) + ["--allow-spiffe-id", ProxyPKI.allowedPattern])
            defer { proxy.stop() }
            let result = try ProxyTools.echo(proxy.address, "nobody home", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(result.status != 0, "\(result)")
            let line = proxy.connection()
            #expect(line?.decision == "failed", "\(proxy.logText)")
            #expect(line?.reason.contains("cannot connect") == true, "\(proxy.logText)")
            #expect(line?.identity == ProxyPKI.clientID, "\(proxy.logText)")
        }

        @Test("--listen [::1]:0 binds IPv6 loopback and serves a Python ssl client")
        func ipv6() throws {
            let s = try Self.echoServer(listen: "[::1]:0")
            defer { s.stop() }
            #expect(s.proxy.address.hasPrefix("[::1]:"), "\(s.proxy.logText)")
            let result = try ProxyTools.run(
                [
                    "client",
                    s.proxy.address.replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: ""),
                    "six",
                ]
                    + ProxyTools.tls(s.pki.client, ca: s.pki.ca.root))
            #expect(result.stdout.contains("echo six"), "\(result)\n\(s.proxy.logText)")
        }

        @Test(
            "SIGINT drains like SIGTERM (draining, stopped, exit 0), and a unix listener's socket file is removed on exit"
        )
        func sigintAndUnixCleanup() throws {
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-unix")
            let socket = scratch.file("proxy.sock")
            let s = try Self.echoServer(listen: "unix:" + socket)
            defer { s.stop() }
            #expect(E2E.exists(socket))
            s.proxy.run.signal(SIGINT)
            let status = s.proxy.run.waitForExit(timeout: 10)
            #expect(status == 0, "\(s.proxy.logText)")
            #expect(s.proxy.event("draining", timeout: 1) != nil && s.proxy.event("stopped", timeout: 1) != nil)
            #expect(!E2E.exists(socket), "the socket file is left behind")
        }

        /// Resident memory of a process in KiB, from /proc.
        static func residentKiB(_ pid: Int32) -> Int {
            let status = E2E.read("/proc/\(pid)/status")
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }

        @Test(
            "Backpressure: a backend flooding a client that reads nothing, and a client flooding a backend that reads nothing, leave the proxy's memory flat (under 48 MiB growth); the flood then flows once the client reads"
        )
        func backpressure() throws {
            let pki = try ProxyPKI.shared.get()
            let tls = ProxyTools.tls(pki.client, ca: pki.ca.root)
            for (mode, extra) in [("flood", [String]()), ("stall", ["--send"])] {
                let backend = try Backend(mode)
                defer { backend.stop() }
                // --drain-timeout 1s: toward a backend that never reads, the proxy keeps flushing after the
                // client has gone, so a graceful stop would wait the full default 30 s.
                let proxy = try ProxyUnderTest.server(
                    pki.serverArguments(target: backend.address) + [
                        "--allow-spiffe-id", ProxyPKI.allowedPattern, "--drain-timeout", "1s",
                    ])
                defer { proxy.stop() }
                let before = Self.residentKiB(proxy.run.pid)
                let client = try ProxyTools.start(["stall", proxy.address, "2"] + tls + extra)
                defer { client.forceKill() }
                let stalled = try #require(
                    client.waitForLine(.stdout, timeout: 15) { $0.hasPrefix("stalled ") }, "\(client.text(.stdout))")
                let during = Self.residentKiB(proxy.run.pid)
                #expect(during - before < 48 * 1024, "\(mode): RSS grew from \(before) KiB to \(during) KiB")
                if mode == "stall" {
                    let sent = Int(stalled.split(separator: " ")[1]) ?? 0
                    #expect(sent < 64 * 1024 * 1024, "the proxy took \(sent) bytes for a backend that reads nothing")
                } else {
                    let drained = client.waitForLine(.stdout, timeout: 10) { $0.hasPrefix("drained ") } ?? ""
                    let received = Int(drained.split(separator: " ").last ?? "") ?? 0
                    #expect(received > 8 * 1024 * 1024, "the flood did not flow once the client read: \(drained)")
                }
            }
        }
    }
}
