import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy client and server as sidecars, over TCP and unix sockets")
    struct Sidecar {
        /// backend ← proxy server (presenting `serverCertificate`) ← proxy client (verifying `verify`).
        struct Chain {
            let backend: Backend
            let server: ProxyUnderTest
            let client: ProxyUnderTest

            func stop() {
                client.stop()
                server.stop()
                backend.stop()
            }
        }

        static func chain(_ mode: String, serverCertificate: IssuedLeaf? = nil, verify: [String]) throws -> Chain {
            let pki = try ProxyPKI.shared.get()
            let backend = try Backend(mode)
            let server = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address, certificate: serverCertificate) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern,
                ])
            let client = try ProxyUnderTest.client(
                [
                    "--listen", "127.0.0.1:0", "--target", server.address, "--cert", pki.client.cert, "--key",
                    pki.client.key, "--ca", pki.ca.root,
                ] + verify)
            return Chain(backend: backend, server: server, client: client)
        }

        @Test(
            "plain client → proxy client → proxy server → backend: a plain socket gets its echo and curl http:// its 200; both proxies log the other side's SPIFFE ID"
        )
        func sidecarChain() throws {
            let echo = try Self.chain("echo", verify: ["--verify-spiffe-id", ProxyPKI.serverID])
            defer { echo.stop() }
            let result = try ProxyTools.echo(echo.client.address, "through two proxies", ["--plain"])
            #expect(result.stdout.contains("echo through two proxies"), "\(result)\n\(echo.client.logText)")
            let serverLine = echo.server.connection()
            #expect(serverLine?.decision == "allowed", "\(echo.server.logText)")
            #expect(serverLine?.identity == ProxyPKI.clientID, "\(echo.server.logText)")
            let clientLine = echo.client.connection()
            #expect(clientLine?.decision == "allowed", "\(echo.client.logText)")
            #expect(clientLine?.identity == ProxyPKI.serverID, "\(echo.client.logText)")

            let http = try Self.chain("http", verify: ["--verify-dns", "localhost"])
            defer { http.stop() }
            let curl = try ProcessRunner.run(
                "curl", ["-sS", "--max-time", "10", "http://\(http.client.address)/"], timeout: 20)
            #expect(curl.status == 0 && curl.stdout.contains("hello from the backend"), "\(curl)")
        }

        @Test(
            "A proxy client expecting SPIFFE ID X refuses a proxy server presenting Y: the plain client's connection is closed, the log says nameMismatch"
        )
        func nameMismatch() throws {
            let pki = try ProxyPKI.shared.get()
            let chain = try Self.chain(
                "echo", serverCertificate: pki.impostor, verify: ["--verify-spiffe-id", ProxyPKI.serverID])
            defer { chain.stop() }
            let result = try ProxyTools.echo(chain.client.address, "secret", ["--plain"])
            #expect(result.status != 0 && !result.stdout.contains("echo secret"), "\(result)")
            #expect(result.stdout.contains("EOF") || result.stdout.contains("Reset"), "\(result)")
            let line = chain.client.connection()
            #expect(line?.decision == "denied", "\(chain.client.logText)")
            #expect(line?.reason.contains("nameMismatch") == true, "\(chain.client.logText)")
            // Nothing reached the backend through the server.
            #expect(chain.server.connection(timeout: 1) { $0.decision == "allowed" } == nil, "\(chain.server.logText)")
        }

        @Test("proxy server --target unix:PATH forwards to a backend on a unix socket")
        func unixTarget() throws {
            let pki = try ProxyPKI.shared.get()
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-unix")
            let backend = try Backend("http", unixSocket: scratch.file("backend.sock"))
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + ["--allow-spiffe-id", ProxyPKI.allowedPattern])
            defer { proxy.stop() }
            let result = try Curl.get(proxy.url, as: pki.client, ca: pki.ca.root)
            #expect(result.status == 0 && result.stdout.contains("hello from the backend"), "\(result)")
        }

        @Test(
            "proxy server --listen unix:PATH speaks mTLS over the unix socket (Python ssl over AF_UNIX), and proxy client --listen unix:PATH takes plain connections there"
        )
        func unixListeners() throws {
            let pki = try ProxyPKI.shared.get()
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-unix")
            let backend = try Backend("echo")
            defer { backend.stop() }
            let server = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address, listen: "unix:" + scratch.file("server.sock")) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern,
                ])
            defer { server.stop() }
            #expect(server.address == "unix:" + scratch.file("server.sock"), "\(server.logText)")
            let direct = try ProxyTools.echo(
                "unix:" + scratch.file("server.sock"), "over unix", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(direct.stdout.contains("echo over unix"), "\(direct)\n\(server.logText)")
            #expect(server.connection()?.identity == ProxyPKI.clientID, "\(server.logText)")

            let client = try ProxyUnderTest.client([
                "--listen", "unix:" + scratch.file("client.sock"), "--target", "unix:" + scratch.file("server.sock"),
                "--cert", pki.client.cert, "--key", pki.client.key, "--ca", pki.ca.root, "--verify-spiffe-id",
                ProxyPKI.serverID,
            ])
            defer { client.stop() }
            let chained = try ProxyTools.echo("unix:" + scratch.file("client.sock"), "unix both ways", ["--plain"])
            #expect(chained.stdout.contains("echo unix both ways"), "\(chained)\n\(client.logText)")
        }
    }
}
