import CLIKit
import Proxy
import X509

/// `symbolon proxy client`: plaintext from a local app, mTLS to the upstream with the workload's certificate.
struct ProxyClientCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "client", abstract: "Accept plaintext locally and forward it over mTLS to an upstream.",
        discussion: """
            The sidecar's outbound half: the app connects in plaintext to --listen (keep it on loopback or a
            unix socket); each connection is carried to --target over mTLS, presenting --cert/--key, and only to a
            server that chains to --ca and carries the expected identity (--verify-spiffe-id or --verify-dns).
            Files are reloaded on SIGHUP and on change, like proxy server.

            Example:
              symbolon proxy client --listen 127.0.0.1:9000 --target payments.internal:8443 \\
                --cert web-chain.pem --key web-key.pem --ca root.pem \\
                --verify-spiffe-id spiffe://acme.internal/ns/payments/api
            """)
    static let arguments: [ArgumentSpec] =
        ProxyOptions.arguments + [
            .option(long: "verify-spiffe-id", valueName: "ID", help: "The SPIFFE ID the upstream server must carry."),
            .option(
                long: "verify-dns", valueName: "NAME",
                help: "A DNS name the upstream server must carry (also sent as SNI)."),
        ]

    let options: ProxyOptions
    let expected: [SubjectAlternativeName]

    init(parsed: ParsedArguments) throws {
        options = try ProxyOptions(parsed: parsed)
        var expected: [SubjectAlternativeName] = []
        if let id = parsed.string("verify-spiffe-id") {
            do { expected.append(.uri(try SPIFFEID(id).description)) } catch {
                throw UsageError("--verify-spiffe-id: \(error)")
            }
        }
        if let name = parsed.string("verify-dns") { expected.append(.dns(name)) }
        self.expected = expected
    }

    func validate() throws {
        if expected.isEmpty {
            throw UsageError(
                "say which server identity to expect: --verify-spiffe-id ID or --verify-dns NAME (any server the "
                    + "bundle verifies would otherwise do)")
        }
    }

    func run() throws -> ExitCode {
        var configuration = options.configuration(mode: .client)
        configuration.expectedServerNames = expected
        return try ProxyOptions.serve(configuration)
    }
}
