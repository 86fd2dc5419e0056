import CLIKit
import Policy
import Proxy
import TLS
import X509

/// `symbolon proxy server`: mTLS in, plaintext (TCP or unix socket) to the target.
struct ProxyServerCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "server", abstract: "Accept mTLS connections and forward admitted clients to a target.",
        discussion: """
            Every client must present a certificate that chains to a root in --ca (EKU clientAuth, not expired,
            not revoked when --crl is given) and be allowed by a rule; nothing else reaches the target. Rules:
            --allow-spiffe-id (exact, or a pattern where a * segment matches one path segment and a final **
            one or more), --allow-uri, --allow-dns (exact or *.domain), --allow-cn, --allow-ou,
            --allow-spki-pin (base64 SHA-256 of the public key), --allow-all, or a JSON --policy file. A client
            matching no rule is refused in the handshake, and the log says why.

            Reload: SIGHUP, or any change to the files (checked every --watch-interval), re-reads certificate,
            key, bundle, CRLs and policy without dropping connections; a failed reload keeps the old state and
            logs why. When a new CRL revokes a connected client, its connections are closed. SIGTERM/SIGINT stop
            accepting and drain.

            One log line per connection on stderr: peer, identity, TLS version, cipher, resumed, decision,
            reason, bytes each way, duration.

            --mode http reads every request with a strict HTTP/1.1 parser (ambiguous framing is refused with
            400), removes identity headers the client sent, adds x-forwarded-client-cert, Client-Cert (RFC 9440),
            X-Client-SPIFFE-ID and optionally a signed token (--sign-identity), checks --routes per request
            (403 with the reason), and logs one line per request. See docs/http.md.

            Example:
              symbolon proxy server --listen 0.0.0.0:8443 --target 127.0.0.1:8080 \\
                --cert server-chain.pem --key server-key.pem --ca root.pem --crl intermediate.crl.pem \\
                --crl root.crl.pem --allow-spiffe-id 'spiffe://acme.internal/ns/payments/*'
            """)
    static let arguments: [ArgumentSpec] =
        ProxyOptions.arguments + [
            .option(
                long: "allow-spiffe-id", valueName: "PATTERN", help: "Allow clients with this SPIFFE ID (or pattern).",
                isRepeating: true),
            .option(long: "allow-uri", valueName: "URI", help: "Allow clients with this URI SAN.", isRepeating: true),
            .option(
                long: "allow-dns", valueName: "NAME", help: "Allow clients with this DNS SAN (or *.domain).",
                isRepeating: true),
            .option(
                long: "allow-cn", valueName: "NAME", help: "Allow clients with this subject CN.", isRepeating: true),
            .option(
                long: "allow-ou", valueName: "NAME", help: "Allow clients with this subject OU.", isRepeating: true),
            .option(
                long: "allow-spki-pin", valueName: "PIN", help: "Allow clients whose key has this SHA-256 SPKI pin.",
                isRepeating: true),
            .flag(long: "allow-all", help: "Allow every client the trust bundle verifies."),
            .option(
                long: "policy", valueName: "FILE",
                help: "A JSON policy file (see docs/policy.md), merged with the flags."),
            .option(
                long: "client-auth", valueName: "MODE",
                help:
                    "require (default), request (clients without a certificate are admitted as unauthenticated, if the policy allows them), or none."
            ),
            .option(
                long: "target-ca", valueName: "BUNDLE",
                help: "Use TLS to the target (presenting --cert), accepting a target certificate that chains to BUNDLE."
            ),
            .option(
                long: "target-verify-spiffe-id", valueName: "ID",
                help: "With --target-ca: the SPIFFE ID the target must carry."),
            .option(
                long: "target-verify-dns", valueName: "NAME",
                help: "With --target-ca: a DNS name the target must carry (also sent as SNI)."),
            .flag(
                long: "proxy-protocol",
                help: "Send a PROXY protocol v2 header with the client's address and identity to the target."),
        ] + HTTPModeOptions.arguments

    let options: ProxyOptions
    let policy: ProxyConfiguration.PolicySource
    let clientAuthentication: TLSConfiguration.ClientAuthentication
    let proxyProtocol: Bool
    let targetTLS: ProxyConfiguration.TargetTLS?
    let http: HTTPModeOptions

    init(parsed: ParsedArguments) throws {
        options = try ProxyOptions(parsed: parsed)
        http = try HTTPModeOptions(parsed: parsed)
        let flags: AuthorizationPolicy
        do {
            flags = try AuthorizationPolicy.fromFlags(
                spiffeIDs: parsed.strings("allow-spiffe-id"), uris: parsed.strings("allow-uri"),
                dnsNames: parsed.strings("allow-dns"), commonNames: parsed.strings("allow-cn"),
                organizationalUnits: parsed.strings("allow-ou"), spkiPins: parsed.strings("allow-spki-pin"),
                allowAll: parsed.flag("allow-all"))
        } catch {
            throw UsageError("\(error)")
        }
        policy = .init(flags: flags, policyFile: parsed.string("policy"))
        let mode = try parsed.choice("client-auth", among: ["require", "request", "none"]) ?? "require"
        clientAuthentication = TLSConfiguration.ClientAuthentication(parsing: mode) ?? .require
        proxyProtocol = parsed.flag("proxy-protocol")
        var names: [SubjectAlternativeName] = []
        if let id = parsed.string("target-verify-spiffe-id") {
            do { names.append(.uri(try SPIFFEID(id).description)) } catch {
                throw UsageError("--target-verify-spiffe-id: \(error)")
            }
        }
        if let name = parsed.string("target-verify-dns") { names.append(.dns(name)) }
        if let bundle = parsed.string("target-ca") {
            targetTLS = .init(bundleFile: bundle, expectedNames: names)
        } else {
            guard names.isEmpty else {
                throw UsageError(
                    "--target-verify-spiffe-id and --target-verify-dns need --target-ca (TLS to the target)")
            }
            targetTLS = nil
        }
    }

    func validate() throws {
        if http.http != nil, proxyProtocol {
            throw UsageError("--proxy-protocol is for --mode tcp; in --mode http the identity travels in headers")
        }
        if let targetTLS, targetTLS.expectedNames.isEmpty {
            throw UsageError(
                "--target-ca needs the identity the target must prove: --target-verify-spiffe-id ID or --target-verify-dns NAME"
            )
        }
        if policy.flags.isEmpty, policy.policyFile == nil, clientAuthentication != .none {
            throw UsageError(
                "no client would be allowed: give --allow-spiffe-id, --allow-uri, --allow-dns, --allow-cn, "
                    + "--allow-ou, --allow-spki-pin, a --policy file, or --allow-all")
        }
    }

    func run() throws -> ExitCode {
        var configuration = options.configuration(mode: .server)
        configuration.clientAuthentication = clientAuthentication
        configuration.policy = policy
        configuration.targetTLS = targetTLS
        configuration.sendsProxyProtocol = proxyProtocol
        configuration.http = http.http
        return try ProxyOptions.serve(configuration)
    }
}
