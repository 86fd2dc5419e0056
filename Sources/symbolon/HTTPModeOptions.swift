import CLIKit
import Foundation
import HTTP1
import Proxy

/// `proxy server --mode http` and the options that only mean something with it (docs/http.md).
struct HTTPModeOptions {
    static let arguments: [ArgumentSpec] = [
        .option(
            long: "mode", valueName: "MODE",
            help: "tcp (default: bytes pass through) or http (HTTP/1.1: identity headers, --routes; docs/http.md)."),
        .option(
            long: "xfcc", valueName: "MODE",
            help:
                "x-forwarded-client-cert: sanitize-set (default), sanitize, forward-only, append-forward, always-forward-only."
        ),
        .option(
            long: "xfcc-details", valueName: "LIST",
            help: "XFCC fields besides By and Hash: any of subject,uri,dns,cert,chain (default subject,uri,dns)."),
        .flag(long: "no-client-cert-headers", help: "Do not send RFC 9440 Client-Cert and Client-Cert-Chain."),
        .option(
            long: "identity-header", valueName: "NAME",
            help: "The header carrying the client's SPIFFE ID (default X-Client-SPIFFE-ID)."),
        .flag(long: "no-identity-header", help: "Do not send the SPIFFE ID header."),
        .option(
            long: "sign-identity", valueName: "KEY",
            help: "Add a signed identity token (JWS) made with this PEM key (P-256, P-384 or Ed25519)."),
        .option(
            long: "signed-identity-header", valueName: "NAME",
            help: "The header carrying the token (default X-Symbolon-Identity)."),
        .option(long: "identity-token-ttl", valueName: "DURATION", help: "Lifetime of each token (default 60s)."),
        .option(long: "routes", valueName: "FILE", help: "Per-route policy (JSON, docs/http.md); default deny."),
        .option(
            long: "max-body-size", valueName: "BYTES", help: "Refuse larger request bodies with 413 (default: none)."),
        .option(
            long: "max-header-size", valueName: "BYTES",
            help: "Refuse larger request header sections with 431 (default 32768)."),
        .option(
            long: "request-head-timeout", valueName: "DURATION",
            help: "A request head must arrive whole within this long of its first byte, else 408 (default 30s)."),
        .flag(
            long: "unsafe-forward-inbound-identity-headers",
            help: "Keep identity headers clients send. Any client could then claim any identity: never at an edge."),
    ]

    static let httpOnlyNames = [
        "xfcc", "xfcc-details", "no-client-cert-headers", "identity-header", "no-identity-header", "sign-identity",
        "signed-identity-header", "identity-token-ttl", "routes", "max-body-size", "max-header-size",
        "request-head-timeout",
        "unsafe-forward-inbound-identity-headers",
    ]

    /// The HTTP options, or nil in `tcp` mode.
    let http: HTTPProxyOptions?

    init(parsed: ParsedArguments) throws {
        let mode = try parsed.choice("mode", among: ["tcp", "http"]) ?? "tcp"
        guard mode == "http" else {
            let httpOnly = HTTPModeOptions.httpOnlyNames.filter { parsed.isPresent($0) }
            if let first = httpOnly.first { throw UsageError("--\(first) needs --mode http") }
            http = nil
            return
        }
        var options = HTTPProxyOptions()
        if let text = try parsed.choice("xfcc", among: HTTPProxyOptions.XFCCMode.allCases.map(\.rawValue)) {
            options.xfcc = HTTPProxyOptions.XFCCMode(rawValue: text) ?? .sanitizeSet
        }
        if let list = parsed.string("xfcc-details") {
            var details: Set<HTTPProxyOptions.XFCCDetail> = []
            for item in list.split(separator: ",", omittingEmptySubsequences: false) {
                guard let detail = HTTPProxyOptions.XFCCDetail(rawValue: item.trimmingCharacters(in: .whitespaces))
                else {
                    throw UsageError(
                        "--xfcc-details: unknown field \"\(item)\"; use a comma-separated list of subject, uri, dns, cert, chain"
                    )
                }
                details.insert(detail)
            }
            options.xfccDetails = details
        }
        options.clientCertHeaders = !parsed.flag("no-client-cert-headers")
        if parsed.flag("no-identity-header") {
            guard parsed.string("identity-header") == nil else {
                throw UsageError("--identity-header and --no-identity-header contradict each other; give one")
            }
            options.identityHeader = nil
        } else if let name = parsed.string("identity-header") {
            options.identityHeader = try HTTPModeOptions.headerName(name, option: "identity-header")
        }
        options.signingKeyFile = parsed.string("sign-identity")
        if let name = parsed.string("signed-identity-header") {
            options.signedIdentityHeader = try HTTPModeOptions.headerName(name, option: "signed-identity-header")
        }
        if let ttl = try parsed.duration("identity-token-ttl") {
            guard ttl >= .seconds(1), ttl <= .seconds(3600) else {
                throw UsageError("--identity-token-ttl must be between 1s and 1h; tokens are meant to be short-lived")
            }
            options.identityTokenTTL = ttl
        }
        options.routesFile = parsed.string("routes")
        if let size = try parsed.int("max-body-size") {
            guard size >= 0 else { throw UsageError("--max-body-size must be 0 or more bytes") }
            options.limits.bodyBytes = size
        }
        if let size = try parsed.int("max-header-size") {
            guard (1024...(1 << 20)).contains(size) else {
                throw UsageError("--max-header-size must be between 1024 and 1048576 bytes")
            }
            options.limits.headerBytes = size
        }
        if let timeout = try parsed.duration("request-head-timeout") {
            guard timeout >= .seconds(1) else { throw UsageError("--request-head-timeout must be at least 1s") }
            options.requestHeadTimeout = timeout
        }
        options.forwardsInboundIdentityHeaders = parsed.flag("unsafe-forward-inbound-identity-headers")
        http = options
    }

    /// A header name is a token; the proxy's own names must not collide with framing or routing fields.
    static func headerName(_ name: String, option: String) throws -> String {
        guard !name.isEmpty, name.utf8.allSatisfy(HTTPSyntax.isTokenByte) else {
            throw UsageError("--\(option): \"\(name)\" is not a header name (letters, digits and -)")
        }
        let reserved = ["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer"]
        guard !reserved.contains(name.lowercased()) else {
            throw UsageError("--\(option): \(name) is a header the proxy needs for itself; choose another name")
        }
        return name
    }
}
