import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy server: hostile clients (silent connections, half a ClientHello, garbage) cannot starve or crash it")
    struct HostileClients {
        static let idle = 1000
        static let halfHello = 50

        @Test(
            "1000 silent connections and 50 half ClientHellos with --handshake-timeout 1s: valid clients get through meanwhile, the hostile ones are closed by the proxy within a bounded time"
        )
        func slowloris() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("echo")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--handshake-timeout", "1s",
                ])
            defer { proxy.stop() }
            let hostile = try ProxyTools.start(
                ["hostile", proxy.address, String(Self.idle), String(Self.halfHello), "10"])
            defer { hostile.forceKill() }
            let opened = try #require(
                hostile.waitForLine(.stdout, timeout: 20) { $0.hasPrefix("opened ") },
                "\(hostile.text(.stdout)) \(hostile.text(.stderr))")
            // "opened N limit L"
            // "opened N limit L": the tool raises RLIMIT_NOFILE as far as the hard limit allows and keeps 32
            // descriptors spare, so on a host with a low hard limit fewer connections are opened (and said so).
            let fields = opened.split(separator: " ")
            let count = Int(fields[1]) ?? 0
            let limit = fields.count > 3 ? Int(fields[3]) ?? 0 : 0
            #expect(
                count >= min(Self.idle + Self.halfHello, limit - 32) && count > 0,
                "only \(opened) (the file descriptor limit)")

            // While they hang on, valid clients still get in.
            for number in 1...3 {
                let result = try ProxyTools.echo(
                    proxy.address, "valid \(number)", ProxyTools.tls(pki.client, ca: pki.ca.root))
                #expect(result.stdout.contains("echo valid \(number)"), "\(result)")
            }

            // "closed C of N in S": every hostile connection sees EOF (or a reset) from the proxy.
            try #require(hostile.waitForExit(timeout: 20) != nil, "\(hostile.text(.stdout))")
            let closed = try #require(
                hostile.lines(.stdout).first { $0.hasPrefix("closed ") }, "\(hostile.text(.stdout))")
            let words = closed.split(separator: " ")
            #expect(words.count == 6 && words[1] == words[3], "not all closed: \(closed)")
            // No timing bound here (shared, noisy machines): the hostile tool itself gives up after its own bound,
            // so "all closed" can only come from the proxy's handshake timeout.
            #expect(proxy.run.isRunning, "\(proxy.logText.suffix(2000))")

            // The proxy logs them as failed handshakes, and still serves.
            let timedOut = proxy.connectionLines.filter { $0.decision == "failed" || $0.decision == "denied" }
            #expect(timedOut.count >= count, "\(timedOut.count) failed/denied lines for \(count) hostile connections")
            let after = try ProxyTools.echo(proxy.address, "after", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(after.stdout.contains("echo after"), "\(after)")
        }

        @Test(
            "Garbage instead of a ClientHello (random bytes, an HTTP request, zeros, an SSLv2 hello, a garbage handshake record) is closed, never crashes the proxy, and it serves afterwards"
        )
        func garbage() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("echo")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + ["--allow-spiffe-id", ProxyPKI.allowedPattern])
            defer { proxy.stop() }
            for _ in 0..<3 {
                let result = try ProxyTools.run(["garbage", proxy.address], timeout: 60)
                #expect(result.status == 0, "\(result)")
                let replies = result.stdout.split(separator: "\n").filter { $0.hasPrefix("reply ") }
                #expect(replies.count == 5, "\(result)")
                for reply in replies {
                    #expect(reply.hasSuffix(" closed"), "the proxy left a garbage connection open: \(reply)")
                }
            }
            #expect(proxy.run.isRunning, "\(proxy.logText.suffix(2000))")
            #expect(!proxy.logText.contains("Fatal error"), "\(proxy.logText.suffix(2000))")
            #expect(!proxy.connectionLines.contains { $0.decision == "allowed" }, "\(proxy.logText)")
            let after = try ProxyTools.echo(proxy.address, "after", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(after.stdout.contains("echo after"), "\(after)\n\(proxy.logText.suffix(2000))")
        }

        @Test(
            "A ClientHello dripped one byte every 0.3 s is cut off by --handshake-timeout 1s (the timeout is for the whole handshake, not per read)"
        )
        func drip() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("echo")
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--handshake-timeout", "1s",
                ])
            defer { proxy.stop() }
            let result = try ProxyTools.run(["drip", proxy.address, "0.3", "8"], timeout: 20)
            // "closed after …" rather than "still-open after 8 s": the 1 s handshake timeout cut it off although
            // every byte arrived well inside it.
            #expect(result.stdout.hasPrefix("closed after"), "\(result)")
            let line = proxy.connection()
            #expect(line?.decision == "failed", "\(proxy.logText)")
        }

        @Test(
            "Out of file descriptors (ulimit -n 64, 100 silent connections): the proxy neither dies nor spins, closes them by the handshake timeout, and serves a valid client afterwards"
        )
        func fileDescriptorExhaustion() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend("echo")
            defer { backend.stop() }
            let binary = E2E.quote(ProcessRunner.symbolonPath)
            let arguments =
                (pki.serverArguments(target: backend.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--handshake-timeout", "1s",
                ]).map(E2E.quote).joined(separator: " ")
            // exec: the PID is the proxy's own, so signals and the final stop reach it.
            let run = try RunningProcess("/bin/sh", ["-c", "ulimit -n 64 && exec \(binary) proxy server \(arguments)"])
            defer { run.stop() }
            let listening = try #require(
                run.waitForLine(.stderr) { $0.contains(" listening ") }, "\(run.text(.stderr))")
            // "<time> listening proxy server on ADDRESS → …"
            let address = String(listening.split(separator: " ")[5])
            let hostile = try ProxyTools.run(["hostile", address, "100", "0", "12"], timeout: 30)
            let closed = hostile.stdout.split(separator: "\n").first { $0.hasPrefix("closed ") } ?? ""
            let words = closed.split(separator: " ")
            #expect(words.count == 6 && words[1] == words[3], "not all closed: \(hostile)")
            #expect(run.isRunning, "\(run.text(.stderr).suffix(2000))")
            let after = try ProxyTools.echo(address, "after", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(after.stdout.contains("echo after"), "\(after)\n\(run.text(.stderr).suffix(2000))")
            // Not spinning on EMFILE: its CPU time (utime + stime, fields 14 and 15) stays small. CPU time, not wall
            // time: a spinning accept loop burns the whole run (~12 s); a quiet one a fraction of a second.
            let stat = E2E.read("/proc/\(run.pid)/stat").split(separator: " ")
            if stat.count > 15, let user = Double(stat[13]), let system = Double(stat[14]) {
                let seconds = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
                #expect(seconds < 5, "the proxy burned \(seconds) s of CPU")
            }
        }
    }
}
