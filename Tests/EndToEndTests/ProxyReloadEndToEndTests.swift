import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy server: revocation and hot reload of certificate, bundle, CRLs and policy")
    struct Reload {
        /// Files the proxy watches, copied into a scratch directory so a test can replace them.
        struct WatchedFiles {
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-reload")
            let pki: ProxyPKI
            var chain: String { scratch.file("server-chain.pem") }
            var key: String { scratch.file("server-key.pem") }
            var bundle: String { scratch.file("bundle.pem") }
            var intermediateCRL: String { scratch.file("intermediate.crl.pem") }
            var rootCRL: String { scratch.file("root.crl.pem") }
            var policy: String { scratch.file("policy.json") }

            init(pki: ProxyPKI, policy: String? = nil) throws {
                self.pki = pki
                try replaceFile(chain, with: E2E.read(pki.server.cert))
                try replaceFile(key, with: E2E.read(pki.server.key))
                try replaceFile(bundle, with: E2E.read(pki.ca.root))
                try publishCRLs()
                if let policy { try replaceFile(self.policy, with: policy) }
            }

            /// Publishes fresh intermediate and root CRLs of the shared CA over the watched CRL files.
            func publishCRLs() throws {
                let name = "crl-\(UUID().uuidString)"
                try replaceFile(intermediateCRL, with: E2E.read(try pki.ca.publishCRL(to: name + "-int.pem")))
                try replaceFile(
                    rootCRL, with: E2E.read(try pki.ca.publishCRL(issuer: "root", to: name + "-root.pem")))
            }

            /// Server arguments using the watched files, with both CRLs.
            func serverArguments(target: String) -> [String] {
                [
                    "--listen", "127.0.0.1:0", "--target", target, "--cert", chain, "--key", key, "--ca", bundle,
                    "--crl", intermediateCRL, "--crl", rootCRL, "--watch-interval", "1s",
                ]
            }
        }

        /// The shared PKI, watched copies of its files, a backend of `kind` and a proxy on them (allowing the shared
        /// SPIFFE pattern, or `files.policy` with `usingPolicyFile`); `stop()` ends both processes.
        struct ReloadSetup {
            let pki: ProxyPKI
            let files: WatchedFiles
            let backend: Backend
            let proxy: ProxyUnderTest

            init(pki: ProxyPKI? = nil, backend kind: String, policy: String? = nil, usingPolicyFile: Bool = false)
                throws
            {
                self.pki = try pki ?? ProxyPKI.shared.get()
                files = try WatchedFiles(pki: self.pki, policy: policy)
                backend = try Backend(kind)
                do {
                    proxy = try ProxyUnderTest.server(
                        files.serverArguments(target: backend.address)
                            + (usingPolicyFile
                                ? ["--policy", files.policy] : ["--allow-spiffe-id", ProxyPKI.allowedPattern]))
                } catch {
                    backend.stop()
                    throw error
                }
            }

            func stop() {
                proxy.stop()
                backend.stop()
            }
        }

        /// Waits for a lifecycle event logged after line `from`.
        static func awaitEvent(_ proxy: ProxyUnderTest, _ name: String, from: Int, timeout: TimeInterval = 10)
            -> String?
        {
            proxy.event(name, from: from, timeout: timeout)
        }

        @Test(
            "With --crl files a client is allowed; once revoked and a new CRL renamed over the file, the proxy reloads, refuses its new handshakes (revoked) and closes its open connection (decision=revoked)"
        )
        func revocationClosesOpenConnections() throws {
            let pki = try ProxyPKI.shared.get()
            let id = "spiffe://acme.internal/ns/payments/revocable-\(UInt32.random(in: 0...UInt32.max))"
            let victim = try pki.issueClient("revocable-\(UUID().uuidString)", spiffeID: id)
            let setup = try ReloadSetup(pki: pki, backend: "echo")
            defer { setup.stop() }
            let (files, proxy) = (setup.files, setup.proxy)

            let before = try ProxyTools.echo(proxy.address, "before", ProxyTools.tls(victim, ca: pki.ca.root))
            #expect(before.stdout.contains("echo before"), "\(before)\n\(proxy.logText)")

            let holder = try ProxyTools.start(["interactive", proxy.address] + ProxyTools.tls(victim, ca: pki.ca.root))
            defer { holder.forceKill() }
            try #require(holder.waitForLine(.stdout) { $0 == "connected" } != nil, "\(holder.text(.stdout))")
            holder.send("echo held")
            try #require(holder.waitForLine(.stdout) { $0 == "echo held" } != nil, "\(holder.text(.stdout))")

            let mark = proxy.log.count
            try pki.ca.revoke(serial: victim.serial)
            try files.publishCRLs()
            let reloaded = Self.awaitEvent(proxy, "reloaded", from: mark)
            try #require(reloaded != nil, "no reloaded line after the new CRL:\n\(proxy.logText)")

            // The open connection is closed by the proxy: EOF (or a reset) within a bounded wait.
            holder.send("wait-eof 5")
            let closed = holder.waitForLine(.stdout, timeout: 8) { $0.hasPrefix("eof") || $0.hasPrefix("error") }
            #expect(closed != nil, "the held connection stayed open: \(holder.text(.stdout))\n\(proxy.logText)")
            let revokedLine = proxy.connection(from: mark) { $0.decision == "revoked" }
            #expect(revokedLine?.identity == id, "\(proxy.logText)")

            // New handshakes fail, logged with the reason.
            let after = try ProxyTools.echo(proxy.address, "after", ProxyTools.tls(victim, ca: pki.ca.root))
            #expect(after.status != 0 && !after.stdout.contains("echo after"), "\(after)")
            let denied = proxy.connection(from: mark) { $0.decision == "denied" && $0.identity != "-" }
            #expect(denied?.reason.contains("revoked") == true, "\(proxy.logText)")

            // Everyone else still gets in.
            let other = try ProxyTools.echo(proxy.address, "other", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(other.stdout.contains("echo other"), "\(other)\n\(proxy.logText)")
        }

        @Test(
            "With --crl given, a CA in the chain without a CRL fails closed: the client is refused (revocationUnknown)")
        func missingCRLFailsClosed() throws {
            let pki = try ProxyPKI.shared.get()
            let files = try WatchedFiles(pki: pki)
            let backend = try Backend("echo")
            defer { backend.stop() }
            // Only the root's CRL: the intermediate's revocation status is unknown.
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + [
                    "--crl", files.rootCRL, "--allow-spiffe-id", ProxyPKI.allowedPattern,
                ])
            defer { proxy.stop() }
            let result = try ProxyTools.echo(proxy.address, "hello", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(result.status != 0 && !result.stdout.contains("echo hello"), "\(result)")
            let line = proxy.connection()
            #expect(line?.decision == "denied", "\(proxy.logText)")
            #expect(line?.reason.contains("revocationUnknown") == true, "\(proxy.logText)")
        }

        @Test(
            "Under load, rotating the server certificate, adding a second CA's root, publishing a CRL and widening the policy: no failed handshake, a connection opened before keeps echoing, every change logged as reloaded"
        )
        func reloadUnderLoad() throws {
            let pki = try ProxyPKI.shared.get()
            let policy = #"{"rules": [{"name": "payments", "spiffeId": "spiffe://acme.internal/ns/payments/*"}]}"#
            let setup = try ReloadSetup(pki: pki, backend: "echo", policy: policy, usingPolicyFile: true)
            defer { setup.stop() }
            let (files, proxy) = (setup.files, setup.proxy)
            let tls = ProxyTools.tls(pki.client, ca: pki.ca.root)

            let holder = try ProxyTools.start(["interactive", proxy.address] + tls)
            defer { holder.forceKill() }
            try #require(holder.waitForLine(.stdout) { $0 == "connected" } != nil, "\(holder.text(.stdout))")
            holder.send("echo first")
            try #require(holder.waitForLine(.stdout) { $0 == "echo first" } != nil, "\(holder.text(.stdout))")
            // The outsider is not in the policy yet.
            let outsiderBefore = try ProxyTools.echo(
                proxy.address, "outsider", ProxyTools.tls(pki.outsider, ca: pki.ca.root))
            #expect(outsiderBefore.status != 0, "\(outsiderBefore)")

            let load = try ProxyTools.start(["load", proxy.address, "9", "2"] + tls)
            defer { load.forceKill() }
            usleep(1_000_000)

            var reloads: [String] = []
            func change(_ what: String, _ body: () throws -> Void) throws {
                let mark = proxy.log.count
                try body()
                let line = Self.awaitEvent(proxy, "reloaded", from: mark)
                #expect(line != nil, "no reloaded line after \(what):\n\(proxy.logText)")
                if let line { reloads.append(line) }
                usleep(300_000)
            }
            // 1. A new server certificate and key (the key first: the pair is checked together).
            let rotated = try pki.ca.issue(
                "service", ["--spiffe-id", ProxyPKI.serverID, "--dns", "localhost"],
                as: "server-rotated-\(UUID().uuidString)")
            try change("rotating the server certificate") {
                let chain = E2E.read(rotated.cert)
                let key = E2E.read(rotated.key)
                try replaceFile(files.key, with: key)
                try replaceFile(files.chain, with: chain)
            }
            // 2. A second CA's root in the bundle.
            try change("adding a root to the bundle") {
                try replaceFile(files.bundle, with: E2E.read(pki.ca.root) + E2E.read(pki.otherCA.root))
            }
            // 3. A new CRL revoking a throwaway certificate.
            let throwaway = try pki.issueClient(
                "throwaway-\(UUID().uuidString)", spiffeID: "spiffe://acme.internal/ns/payments/throwaway")
            try pki.ca.revoke(serial: throwaway.serial)
            try change("publishing a new CRL") { try files.publishCRLs() }
            // 4. The policy gains a rule.
            try change("widening the policy") {
                try replaceFile(
                    files.policy,
                    with:
                        #"{"rules": [{"name": "payments", "spiffeId": "spiffe://acme.internal/ns/payments/*"}, {"name": "web", "spiffeId": "spiffe://acme.internal/ns/web/*"}]}"#
                )
            }

            try #require(load.waitForExit(timeout: 30) != nil, "the load did not finish: \(load.text(.stderr))")
            let summary = load.lines(.stdout).last ?? ""
            let counts = try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any]
            let ok = counts?["ok"] as? Int ?? 0
            let failed = counts?["failed"] as? Int ?? -1
            #expect(failed == 0, "failed handshakes under reload: \(summary)")
            #expect(ok > 20, "too few round trips under load: \(summary)")

            holder.send("echo still-here")
            let still = holder.waitForLine(.stdout) { $0.hasPrefix("echo still-here") || $0.hasPrefix("error") }
            #expect(still == "echo still-here", "the connection opened before the reloads: \(holder.text(.stdout))")
            #expect(reloads.count == 4, "\(reloads)")

            // The new connections see the rotated certificate, and the widened policy admits the outsider.
            let served = try E2E.sh(
                "openssl s_client -connect \(proxy.address) -servername localhost -CAfile \(E2E.quote(pki.ca.root)) -cert \(E2E.quote(pki.client.cert)) -key \(E2E.quote(pki.client.key)) </dev/null 2>/dev/null | openssl x509 -noout -serial",
                timeout: 20)
            #expect(
                served.stdout.lowercased().contains(rotated.serial.lowercased()),
                "served \(served.stdout), rotated \(rotated.serial)")
            let outsiderAfter = try ProxyTools.echo(
                proxy.address, "outsider", ProxyTools.tls(pki.outsider, ca: pki.ca.root))
            #expect(outsiderAfter.stdout.contains("echo outsider"), "\(outsiderAfter)\n\(proxy.logText)")
            // The certificate and key are two files: a poll landing between the two renames may see a mismatched
            // pair and report it; any other failed reload is an error.
            let failures = proxy.log.filter { $0.contains(" reload-failed ") && !$0.contains("does not belong") }
            #expect(failures.isEmpty, "\(proxy.logText)")
        }

        @Test(
            "Garbage written into the certificate file logs reload-failed naming the file and keeps serving with the old certificate; fixing the file reloads"
        )
        func brokenReload() throws {
            let setup = try ReloadSetup(backend: "http")
            defer { setup.stop() }
            let (pki, files, proxy) = (setup.pki, setup.files, setup.proxy)

            var mark = proxy.log.count
            try replaceFile(files.chain, with: "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n")
            let failed = Self.awaitEvent(proxy, "reload-failed", from: mark)
            try #require(failed != nil, "no reload-failed line:\n\(proxy.logText)")
            #expect(failed?.contains("server-chain.pem") == true, "the line must name the file: \(failed ?? "")")

            let during = try Curl.get(proxy.url, as: pki.client, ca: pki.ca.root)
            #expect(during.status == 0 && during.stdout.contains("hello from the backend"), "\(during)")
            // Reported once, not every second.
            usleep(2_500_000)
            let failures = proxy.log.filter { $0.split(separator: " ").dropFirst().first == "reload-failed" }
            #expect(failures.count == 1, "\(proxy.logText)")

            mark = proxy.log.count
            try replaceFile(files.chain, with: E2E.read(pki.server.cert))
            #expect(Self.awaitEvent(proxy, "reloaded", from: mark) != nil, "\(proxy.logText)")
            let after = try Curl.get(proxy.url, as: pki.client, ca: pki.ca.root)
            #expect(after.status == 0 && after.stdout.contains("hello from the backend"), "\(after)")
        }

        @Test("SIGHUP reloads even with --no-watch, and file changes alone do not")
        func sighup() throws {
            let pki = try ProxyPKI.shared.get()
            let files = try WatchedFiles(
                pki: pki, policy: #"{"rules": [{"spiffeId": "spiffe://acme.internal/ns/payments/*"}]}"#)
            let backend = try Backend("echo")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                files.serverArguments(target: backend.address).filter { $0 != "--watch-interval" && $0 != "1s" }
                    + ["--no-watch", "--policy", files.policy])
            defer { proxy.stop() }
            var mark = proxy.log.count
            try replaceFile(files.policy, with: #"{"rules": [{"spiffeId": "spiffe://acme.internal/ns/web/*"}]}"#)
            #expect(Self.awaitEvent(proxy, "reloaded", from: mark, timeout: 2.5) == nil, "\(proxy.logText)")
            let before = try ProxyTools.echo(proxy.address, "x", ProxyTools.tls(pki.outsider, ca: pki.ca.root))
            #expect(before.status != 0, "the old policy still applies: \(before)")
            mark = proxy.log.count
            proxy.run.signal(SIGHUP)
            #expect(Self.awaitEvent(proxy, "reloaded", from: mark) != nil, "\(proxy.logText)")
            let after = try ProxyTools.echo(proxy.address, "x", ProxyTools.tls(pki.outsider, ca: pki.ca.root))
            #expect(after.stdout.contains("echo x"), "\(after)\n\(proxy.logText)")
        }

        @Test(
            "A garbage CRL on reload logs reload-failed naming it and keeps the old CRLs: a revoked client stays refused, a valid one gets in"
        )
        func garbageCRLKeepsOldRevocations() throws {
            let pki = try ProxyPKI.shared.get()
            let id = "spiffe://acme.internal/ns/payments/still-revoked-\(UInt32.random(in: 0...UInt32.max))"
            let victim = try pki.issueClient("still-revoked-\(UUID().uuidString)", spiffeID: id)
            try pki.ca.revoke(serial: victim.serial)
            let setup = try ReloadSetup(pki: pki, backend: "echo")
            defer { setup.stop() }
            let (files, proxy) = (setup.files, setup.proxy)
            let mark = proxy.log.count
            try replaceFile(files.intermediateCRL, with: "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")
            let failed = Self.awaitEvent(proxy, "reload-failed", from: mark)
            #expect(failed?.contains("intermediate.crl.pem") == true, "\(proxy.logText)")
            let revoked = try ProxyTools.echo(proxy.address, "x", ProxyTools.tls(victim, ca: pki.ca.root))
            #expect(!revoked.stdout.contains("echo x"), "a broken CRL must not unrevoke: \(revoked)")
            #expect(proxy.connection(from: mark) { $0.identity == id }?.reason.contains("revoked") == true)
            let valid = try ProxyTools.echo(proxy.address, "y", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(valid.stdout.contains("echo y"), "\(valid)\n\(proxy.logText)")
        }

        @Test(
            "A policy file with a typo on reload logs reload-failed naming the file and the JSON path; the old policy keeps serving"
        )
        func policyTypoKeepsOldPolicy() throws {
            let pki = try ProxyPKI.shared.get()
            let setup = try ReloadSetup(
                pki: pki, backend: "echo",
                policy: #"{"rules": [{"spiffeId": "spiffe://acme.internal/ns/payments/*"}]}"#, usingPolicyFile: true)
            defer { setup.stop() }
            let (files, proxy) = (setup.files, setup.proxy)
            let mark = proxy.log.count
            try replaceFile(files.policy, with: #"{"rules": [{"spiffeID": "spiffe://acme.internal/ns/web/*"}]}"#)
            let failed = Self.awaitEvent(proxy, "reload-failed", from: mark)
            #expect(failed?.contains("policy.json") == true && failed?.contains("spiffeID") == true, "\(proxy.logText)")
            let allowed = try ProxyTools.echo(proxy.address, "x", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(allowed.stdout.contains("echo x"), "\(allowed)\n\(proxy.logText)")
            let outsider = try ProxyTools.echo(proxy.address, "y", ProxyTools.tls(pki.outsider, ca: pki.ca.root))
            #expect(!outsider.stdout.contains("echo y"), "\(outsider)")
        }

        @Test(
            "A new certificate without its key (the old key left in place) logs reload-failed and keeps presenting the old certificate"
        )
        func mismatchedKeyKeepsOldPair() throws {
            let setup = try ReloadSetup(backend: "echo")
            defer { setup.stop() }
            let (pki, files, proxy) = (setup.pki, setup.files, setup.proxy)
            let mark = proxy.log.count
            let other = try pki.ca.issue(
                "service", ["--spiffe-id", ProxyPKI.serverID, "--dns", "localhost"],
                as: "server-keyless-\(UUID().uuidString)")
            try replaceFile(files.chain, with: E2E.read(other.cert))
            let failed = Self.awaitEvent(proxy, "reload-failed", from: mark)
            #expect(failed?.contains("server-key.pem") == true || failed?.contains("server-chain.pem") == true)
            #expect(failed?.contains("does not belong") == true, "\(proxy.logText)")
            let served = try E2E.sh(
                "openssl s_client -connect \(proxy.address) -servername localhost -CAfile \(E2E.quote(pki.ca.root)) -cert \(E2E.quote(pki.client.cert)) -cert_chain \(E2E.quote(pki.client.cert)) -key \(E2E.quote(pki.client.key)) </dev/null 2>/dev/null | openssl x509 -noout -serial",
                timeout: 20)
            let old = try E2E.opensslSerial(pki.server.cert)
            #expect(served.stdout.lowercased().contains(old), "served \(served.stdout), old \(old)")
            let echo = try ProxyTools.echo(proxy.address, "x", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(echo.stdout.contains("echo x"), "\(echo)")
        }

        @Test(
            "A revocation closes every open connection of the revoked client, across event-loop threads, and none of another client's"
        )
        func revocationClosesOnlyTheVictimsConnections() throws {
            let pki = try ProxyPKI.shared.get()
            let id = "spiffe://acme.internal/ns/payments/many-\(UInt32.random(in: 0...UInt32.max))"
            let victim = try pki.issueClient("many-\(UUID().uuidString)", spiffeID: id)
            let files = try WatchedFiles(pki: pki)
            let backend = try Backend("echo")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                files.serverArguments(target: backend.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--threads", "2",
                ])
            defer { proxy.stop() }
            func hold(_ leaf: IssuedLeaf) throws -> RunningProcess {
                let holder = try ProxyTools.start(
                    ["interactive", proxy.address] + ProxyTools.tls(leaf, ca: pki.ca.root))
                holder.send("echo hi")
                return holder
            }
            let victims = try (0..<4).map { _ in try hold(victim) }
            let others = try (0..<2).map { _ in try hold(pki.client) }
            defer { for holder in victims + others { holder.forceKill() } }
            for holder in victims + others {
                try #require(holder.waitForLine(.stdout) { $0 == "echo hi" } != nil, "\(holder.text(.stdout))")
            }
            let mark = proxy.log.count
            try pki.ca.revoke(serial: victim.serial)
            try files.publishCRLs()
            try #require(Self.awaitEvent(proxy, "reloaded", from: mark) != nil, "\(proxy.logText)")
            for holder in victims { holder.send("wait-eof 5") }
            for holder in victims {
                let line = holder.waitForLine(.stdout, timeout: 8) { $0.hasPrefix("eof") || $0.hasPrefix("error") }
                #expect(line != nil, "a victim's connection stayed open: \(holder.text(.stdout))")
            }
            for holder in others {
                holder.send("echo still")
                #expect(holder.waitForLine(.stdout) { $0 == "echo still" } != nil, "\(holder.text(.stdout))")
            }
            let revoked = proxy.connectionLines.filter { $0.decision == "revoked" }
            #expect(revoked.count == 4 && revoked.allSatisfy { $0.identity == id }, "\(proxy.logText)")
        }

        @Test("Twenty SIGHUPs in a burst while clients connect: no crash, no failed round trip, and it still serves")
        func sighupBurst() throws {
            let setup = try ReloadSetup(backend: "echo")
            defer { setup.stop() }
            let (pki, proxy) = (setup.pki, setup.proxy)
            let load = try ProxyTools.start(
                ["load", proxy.address, "3", "2"] + ProxyTools.tls(pki.client, ca: pki.ca.root))
            defer { load.forceKill() }
            for _ in 0..<20 {
                proxy.run.signal(SIGHUP)
                usleep(50_000)
            }
            try #require(load.waitForExit(timeout: 20) != nil)
            let summary = load.lines(.stdout).last ?? ""
            #expect(summary.contains(#""failed": 0"#), "\(summary)")
            #expect(proxy.run.isRunning, "\(proxy.logText.suffix(2000))")
            let reloads = proxy.log.filter { $0.contains(" reloaded ") }.count
            #expect(reloads >= 1, "\(proxy.logText.suffix(2000))")
            let after = try ProxyTools.echo(proxy.address, "after", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(after.stdout.contains("echo after"), "\(after)")
        }

        @Test(
            "A Kubernetes-style secret update (files are symlinks through ..data, and ..data is swapped to a new directory) is picked up: reloaded, and the new certificate is served"
        )
        func symlinkSwap() throws {
            let pki = try ProxyPKI.shared.get()
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-k8s")
            let fm = FileManager.default
            for version in ["v1", "v2"] {
                try fm.createDirectory(atPath: scratch.file(version), withIntermediateDirectories: false)
            }
            let rotated = try pki.ca.issue(
                "service", ["--spiffe-id", ProxyPKI.serverID, "--dns", "localhost"],
                as: "server-k8s-\(UUID().uuidString)")
            try E2E.read(pki.server.cert).write(toFile: scratch.file("v1/tls.crt"), atomically: true, encoding: .utf8)
            try E2E.read(pki.server.key).write(toFile: scratch.file("v1/tls.key"), atomically: true, encoding: .utf8)
            try E2E.read(rotated.cert).write(toFile: scratch.file("v2/tls.crt"), atomically: true, encoding: .utf8)
            try E2E.read(rotated.key).write(toFile: scratch.file("v2/tls.key"), atomically: true, encoding: .utf8)
            try fm.createSymbolicLink(atPath: scratch.file("..data"), withDestinationPath: "v1")
            try fm.createSymbolicLink(atPath: scratch.file("tls.crt"), withDestinationPath: "..data/tls.crt")
            try fm.createSymbolicLink(atPath: scratch.file("tls.key"), withDestinationPath: "..data/tls.key")
            let backend = try Backend("echo")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server([
                "--listen", "127.0.0.1:0", "--target", backend.address, "--cert", scratch.file("tls.crt"), "--key",
                scratch.file("tls.key"), "--ca", pki.ca.root, "--allow-spiffe-id", ProxyPKI.allowedPattern,
            ])
            defer { proxy.stop() }
            let mark = proxy.log.count
            // What the kubelet does: a new symlink, renamed over ..data in one step.
            try fm.createSymbolicLink(atPath: scratch.file("..data_tmp"), withDestinationPath: "v2")
            guard rename(scratch.file("..data_tmp"), scratch.file("..data")) == 0 else {
                throw SetupError("rename ..data_tmp: errno \(errno)")
            }
            #expect(Self.awaitEvent(proxy, "reloaded", from: mark) != nil, "\(proxy.logText)")
            let served = try E2E.sh(
                "openssl s_client -connect \(proxy.address) -servername localhost -CAfile \(E2E.quote(pki.ca.root)) -cert \(E2E.quote(pki.client.cert)) -cert_chain \(E2E.quote(pki.client.cert)) -key \(E2E.quote(pki.client.key)) </dev/null 2>/dev/null | openssl x509 -noout -serial",
                timeout: 20)
            #expect(served.stdout.lowercased().contains(rotated.serial.lowercased()), "served \(served.stdout)")
        }

        @Test("proxy client with --crl refuses an upstream server whose certificate was revoked (revoked)")
        func proxyClientRevokedUpstream() throws {
            let pki = try ProxyPKI.shared.get()
            let revokedServer = try pki.ca.issue(
                "service", ["--spiffe-id", ProxyPKI.serverID, "--dns", "localhost"],
                as: "server-revoked-\(UUID().uuidString)")
            try pki.ca.revoke(serial: revokedServer.serial)
            let files = try WatchedFiles(pki: pki)
            let backend = try Backend("echo")
            defer { backend.stop() }
            let server = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address, certificate: revokedServer) + ["--allow-all"])
            defer { server.stop() }
            let client = try ProxyUnderTest.client([
                "--listen", "127.0.0.1:0", "--target", server.address, "--cert", pki.client.cert, "--key",
                pki.client.key, "--ca", pki.ca.root, "--verify-spiffe-id", ProxyPKI.serverID, "--crl",
                files.intermediateCRL, "--crl", files.rootCRL,
            ])
            defer { client.stop() }
            let result = try ProxyTools.echo(client.address, "secret", ["--plain"])
            #expect(!result.stdout.contains("echo secret"), "\(result)")
            let line = client.connection()
            #expect(line?.decision == "denied" && line?.reason.contains("revoked") == true, "\(client.logText)")
        }
    }
}
