import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy --mode http: the command line — help, usage errors, start-up warnings, tcp mode unchanged")
    struct HTTPProxyOptions {
        @Test("proxy server --help lists --mode and every HTTP option")
        func help() throws {
            let result = try E2E.symbolon(["proxy", "server", "--help"])
            #expect(result.status == 0, "\(result)")
            for option in [
                "--mode", "--xfcc", "--xfcc-details", "--no-client-cert-headers", "--identity-header",
                "--no-identity-header", "--sign-identity", "--signed-identity-header", "--identity-token-ttl",
                "--routes", "--max-body-size", "--max-header-size", "--request-head-timeout",
                "--unsafe-forward-inbound-identity-headers",
            ] {
                #expect(result.stdout.contains(option), "help must list \(option):\n\(result.stdout)")
            }
        }

        struct UsageCase: Sendable, CustomTestStringConvertible {
            let arguments: [String]
            let culprit: String
            var testDescription: String { arguments.joined(separator: " ") }
        }

        static let usageCases: [UsageCase] = [
            UsageCase(arguments: ["--mode", "bogus"], culprit: "--mode"),
            UsageCase(arguments: ["--mode", "HTTP2"], culprit: "--mode"),
            UsageCase(arguments: ["--mode", "http", "--xfcc", "bogus"], culprit: "--xfcc"),
            UsageCase(arguments: ["--mode", "http", "--xfcc-details", "subject,bogus"], culprit: "--xfcc-details"),
            UsageCase(arguments: ["--mode", "http", "--max-body-size", "lots"], culprit: "--max-body-size"),
            UsageCase(arguments: ["--mode", "http", "--max-header-size", "huge"], culprit: "--max-header-size"),
            UsageCase(arguments: ["--mode", "http", "--identity-token-ttl", "soon"], culprit: "--identity-token-ttl"),
        ]

        @Test(
            "A bad value for an HTTP option is a usage error: exit 2, 'error:', the option named, never listening",
            arguments: usageCases)
        func usageErrors(_ testCase: UsageCase) throws {
            let pki = try ProxyPKI.shared.get()
            let result = try ProcessRunner.run(
                ProcessRunner.symbolonPath,
                ["proxy", "server"] + pki.serverArguments(target: "127.0.0.1:9") + ["--allow-all"] + testCase.arguments,
                timeout: 10)
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.hasPrefix("error: "), "\(result)")
            #expect(result.stderr.contains(testCase.culprit), "\(result)")
            #expect(!result.output.contains("listening"), "\(result)")
        }

        @Test(
            "--unsafe-forward-inbound-identity-headers and the forwarding --xfcc modes print a warning at start and still run"
        )
        func startUpWarnings() throws {
            for option in [
                ["--unsafe-forward-inbound-identity-headers"], ["--xfcc", "forward-only"],
                ["--xfcc", "append-forward"], ["--xfcc", "always-forward-only"],
            ] {
                let s = try HTTPProxySetup.start(option)
                defer { s.stop() }
                #expect(
                    s.proxy.log.contains { $0.lowercased().contains("warn") },
                    "\(option): no warning:\n\(s.proxy.logText)")
                let reply = try s.curl("/")
                #expect(reply.status == 200, "\(option): \(reply)")
            }
        }

        @Test(
            "--mode tcp (the default, and spelled out) still passes bytes through blindly: no identity header is added")
        func tcpModeUnchanged() throws {
            let pki = try ProxyPKI.shared.get()
            for mode in [[], ["--mode", "tcp"]] {
                let backend = try HTTPBackend()
                defer { backend.stop() }
                let proxy = try ProxyUnderTest.server(
                    pki.serverArguments(target: backend.address) + ["--allow-spiffe-id", ProxyPKI.allowedPattern] + mode
                )
                defer { proxy.stop() }
                let reply = try HTTPClients.curl(
                    "https://localhost:\(proxy.port)/tcp", as: pki.client, ca: pki.ca.root,
                    ["-H", "X-Client-SPIFFE-ID: sent-by-the-client"])
                #expect(reply.status == 200, "\(mode): \(reply)")
                let echo = try #require(reply.echo, "\(reply)")
                #expect(echo.headers.values("x-client-spiffe-id") == ["sent-by-the-client"], "\(echo.headers)")
                #expect(!echo.headers.has("x-forwarded-client-cert"), "\(echo.headers)")
                #expect(proxy.requestLines.isEmpty, "no request lines in tcp mode: \(proxy.logText)")
            }
        }
    }
}
