import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy server: a bad configuration stops it before it listens, with a message naming the file")
    struct ConfigurationErrors {
        struct Case: CustomTestStringConvertible, Sendable {
            let name: String
            /// Arguments replacing the defaults (`--cert`, `--key`, `--ca`, one allow rule) by key.
            let change: @Sendable (ProxyPKI, String) throws -> [String: String]
            let expectedStatus: Int32
            /// Substrings the message must hold (`$DIR` is the scratch directory).
            let message: [String]
            var testDescription: String { name }
        }

        static let cases: [Case] = [
            Case(
                name: "a missing certificate file", change: { _, dir in ["--cert": dir + "/missing-chain.pem"] },
                expectedStatus: 1, message: ["missing-chain.pem", "does not exist"]),
            Case(
                name: "a key file holding garbage",
                change: { _, dir in
                    ["--key": try TemporaryFile.write(dir + "/garbage-key.pem", "this is not a key\n")]
                }, expectedStatus: 1, message: ["garbage-key.pem", "private key"]),
            Case(
                name: "the key of another certificate", change: { pki, _ in ["--key": pki.client.key] },
                expectedStatus: 1, message: ["does not belong", "server.pem"]),
            Case(
                name: "a bundle without a root (only the intermediate)",
                change: { pki, _ in ["--ca": pki.ca.intermediate] }, expectedStatus: 1,
                message: ["intermediate.pem", "no root"]),
            Case(
                name: "a bundle holding garbage",
                change: { _, dir in ["--ca": try TemporaryFile.write(dir + "/garbage-bundle.pem", "garbage\n")] },
                expectedStatus: 1, message: ["garbage-bundle.pem", "trust bundle"]),
            Case(
                name: "a missing CRL file", change: { _, dir in ["--crl": dir + "/missing.crl.pem"] },
                expectedStatus: 1, message: ["missing.crl.pem", "does not exist"]),
            Case(
                name: "a missing policy file", change: { _, dir in ["--policy": dir + "/missing-policy.json"] },
                expectedStatus: 1, message: ["missing-policy.json"]),
            Case(
                name: "a policy file with an unknown key",
                change: { _, dir in
                    [
                        "--policy": try TemporaryFile.write(
                            dir + "/typo-policy.json", #"{"rules": [{"spiffeID": "spiffe://acme.internal/x"}]}"#)
                    ]
                }, expectedStatus: 1, message: ["typo-policy.json", "spiffeID"]),
            Case(
                name: "no allow rule at all (usage error)", change: { _, _ in ["--allow-spiffe-id": ""] },
                expectedStatus: 2, message: ["no client would be allowed", "--allow-all"]),
            Case(
                name: "a zero --handshake-timeout (usage error)", change: { _, _ in ["--handshake-timeout": "0s"] },
                expectedStatus: 2, message: ["--handshake-timeout"]),
            Case(
                name: "a zero --watch-interval (usage error)", change: { _, _ in ["--watch-interval": "0s"] },
                expectedStatus: 2, message: ["--watch-interval"]),
            Case(
                name: "a negative --drain-timeout (usage error)", change: { _, _ in ["--drain-timeout": "-1s"] },
                expectedStatus: 2, message: ["--drain-timeout"]),
            Case(
                name: "an unknown --client-auth mode (usage error)", change: { _, _ in ["--client-auth": "maybe"] },
                expectedStatus: 2, message: ["--client-auth"]),
            Case(
                name: "a regular file where the unix socket should go (left untouched)",
                change: { _, dir in
                    ["--listen": "unix:" + (try TemporaryFile.write(dir + "/precious.sock", "precious\n"))]
                }, expectedStatus: 1, message: ["precious.sock", "not a socket"]),
            Case(
                name: "an unparsable listen address (usage error)", change: { _, _ in ["--listen": "localhost"] },
                expectedStatus: 2, message: ["localhost"]),
        ]

        /// Runs the server with the defaults changed by `change`; an empty value drops the option.
        static func run(_ change: [String: String]) throws -> ProcessResult {
            let pki = try ProxyPKI.shared.get()
            var options: [(String, String)] = [
                ("--listen", "127.0.0.1:0"), ("--target", "127.0.0.1:9"), ("--cert", pki.server.cert),
                ("--key", pki.server.key), ("--ca", pki.ca.root), ("--allow-spiffe-id", ProxyPKI.allowedPattern),
            ]
            for (key, value) in change {
                if let index = options.firstIndex(where: { $0.0 == key }) {
                    options[index].1 = value
                } else {
                    options.append((key, value))
                }
            }
            let arguments = options.filter { !$0.1.isEmpty }.flatMap { [$0.0, $0.1] }
            // A server that wrongly starts would listen forever: 10 s bounds it (-9 then).
            return try ProcessRunner.run(ProcessRunner.symbolonPath, ["proxy", "server"] + arguments, timeout: 10)
        }

        @Test("proxy server refuses to start", arguments: cases)
        func refusesToStart(_ testCase: Case) throws {
            let pki = try ProxyPKI.shared.get()
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-config")
            let result = try Self.run(testCase.change(pki, scratch.path))
            #expect(result.status == testCase.expectedStatus, "\(result)")
            for fragment in testCase.message {
                #expect(result.stderr.contains(fragment), "expected \"\(fragment)\" in: \(result.stderr)")
            }
            #expect(!result.output.contains("listening"), "\(result)")
        }

        @Test("A port already in use: exit 1 naming the address")
        func portInUse() throws {
            let occupant = try Backend("echo")
            defer { occupant.stop() }
            let result = try Self.run(["--listen": occupant.address])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains(occupant.address) && result.stderr.contains("in use"), "\(result)")
        }

        @Test(
            "A unix socket path: a stale socket left by a killed proxy is replaced; one a live proxy listens on is refused"
        )
        func unixSocketOwnership() throws {
            let pki = try ProxyPKI.shared.get()
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-unix")
            let path = scratch.file("proxy.sock")
            let arguments = pki.serverArguments(target: "127.0.0.1:9", listen: "unix:" + path) + ["--allow-all"]
            let first = try ProxyUnderTest.server(arguments)
            let live = try Self.run(["--listen": "unix:" + path])
            #expect(live.status == 1 && live.stderr.contains("in use"), "\(live)")
            #expect(first.run.isRunning, "the live proxy must keep its socket: \(first.logText)")
            first.run.forceKill()  // SIGKILL: the socket file stays behind
            #expect(E2E.exists(path))
            let second = try ProxyUnderTest.server(arguments)
            defer { second.stop() }
            let result = try ProxyTools.echo(
                "unix:" + path, "x", ProxyTools.tls(pki.client, ca: pki.ca.root))
            #expect(result.stdout.contains("tls TLSv1.3"), "the restarted proxy answers: \(result)")
        }

        @Test(
            "A fatal configuration error is printed as an error, not as 'warning: error: …'")
        func errorIsNotAWarning() throws {
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-config")
            let result = try Self.run(["--cert": scratch.path + "/missing-chain.pem"])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
            #expect(!result.stderr.contains("warning:"), "\(result.stderr)")
        }
    }
}

/// Writing scratch files inside a test case's closure.
enum TemporaryFile {
    static func write(_ path: String, _ text: String) throws -> String {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
