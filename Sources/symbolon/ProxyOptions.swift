import CLIKit
import NetCore
import Proxy
import TLS

/// Options both `proxy server` and `proxy client` take, parsed once.
struct ProxyOptions {
    static let arguments: [ArgumentSpec] = [
        .option(
            long: "listen", valueName: "ADDR", help: "Where to accept connections: host:port, [v6]:port or unix:PATH.",
            isRequired: true),
        .option(
            long: "target", valueName: "ADDR", help: "Where to forward: host:port, [v6]:port or unix:PATH.",
            isRequired: true),
        .option(long: "cert", valueName: "FILE", help: "Our certificate chain (PEM, leaf first).", isRequired: true),
        .option(long: "key", valueName: "FILE", help: "Our private key (unencrypted PKCS#8 PEM).", isRequired: true),
        .option(
            long: "ca", valueName: "BUNDLE",
            help: "Trust bundle (PEM): peers must chain to a root in it. The system store is never used.",
            isRequired: true),
        .option(
            long: "crl", valueName: "FILE",
            help: "A CRL (PEM); give one per CA. Enables revocation checking: a CA without a current CRL fails closed.",
            isRepeating: true),
        .flag(long: "allow-stale-crl", help: "Accept a CRL past its nextUpdate instead of refusing every peer."),
        .option(long: "min-tls", valueName: "VERSION", help: "Lowest TLS version: 1.3 (default) or 1.2."),
        .option(
            long: "handshake-timeout", valueName: "DURATION",
            help: "Close a peer that has not finished the handshake (default 10s)."),
        .option(
            long: "idle-timeout", valueName: "DURATION",
            help: "Close an established connection after this long without traffic either way (default 1h)."),
        .option(long: "connect-timeout", valueName: "DURATION", help: "Give up connecting to the target (default 5s)."),
        .option(
            long: "drain-timeout", valueName: "DURATION",
            help: "Longest wait for open connections on SIGTERM (default 30s)."),
        .option(
            long: "watch-interval", valueName: "DURATION",
            help: "How often files are checked for changes (default 1s); SIGHUP always reloads."),
        .flag(long: "no-watch", help: "Reload only on SIGHUP."),
        .option(
            long: "log-format", valueName: "FORMAT", help: "text (default) or json: one line per connection on stderr."),
        .option(long: "threads", valueName: "N", help: "Event loop threads (default: one per core)."),
    ]

    let listen: SocketAddress
    let target: SocketAddress
    let certificate: String
    let key: String
    let bundle: String
    let crls: [String]
    let allowStaleCRL: Bool
    let minimumVersion: TLSConfiguration.MinimumVersion
    let handshakeTimeout: Duration
    let idleTimeout: Duration
    let connectTimeout: Duration
    let drainTimeout: Duration
    let watchInterval: Duration?
    let logFormat: ConnectionLogger.Format
    let threads: Int

    init(parsed: ParsedArguments) throws {
        do {
            listen = try SocketAddress.parse(try parsed.requiredString("listen"))
            target = try SocketAddress.parse(try parsed.requiredString("target"))
        } catch let error as NetError {
            throw UsageError("\(error)")
        }
        certificate = try parsed.requiredString("cert")
        key = try parsed.requiredString("key")
        bundle = try parsed.requiredString("ca")
        crls = parsed.strings("crl")
        allowStaleCRL = parsed.flag("allow-stale-crl")
        minimumVersion = try parsed.choice("min-tls", among: ["1.2", "1.3"]) == "1.2" ? .tls12 : .tls13
        handshakeTimeout = try parsed.duration("handshake-timeout") ?? .seconds(10)
        connectTimeout = try parsed.duration("connect-timeout") ?? .seconds(5)
        idleTimeout = try parsed.duration("idle-timeout") ?? .seconds(3600)
        drainTimeout = try parsed.duration("drain-timeout") ?? .seconds(30)
        watchInterval = parsed.flag("no-watch") ? nil : try parsed.duration("watch-interval") ?? .seconds(1)
        logFormat = try parsed.choice("log-format", among: ["text", "json"]) == "json" ? .json : .text
        let threads = try parsed.int("threads") ?? 0
        guard (0...256).contains(threads) else {
            throw UsageError("--threads must be between 1 and 256 (or 0: one per core)")
        }
        self.threads = threads
    }

    /// The configuration these shared options describe; the mode's own options are set by its command.
    func configuration(mode: ProxyConfiguration.Mode) -> ProxyConfiguration {
        ProxyConfiguration(
            mode: mode, listen: listen, target: target, certificateFile: certificate, keyFile: key,
            bundleFile: bundle, crlFiles: crls, acceptsStaleCRLs: allowStaleCRL, minimumVersion: minimumVersion,
            handshakeTimeout: handshakeTimeout, idleTimeout: idleTimeout, connectTimeout: connectTimeout,
            drainTimeout: drainTimeout, watchInterval: watchInterval, logFormat: logFormat, threads: threads)
    }

    /// Starts the proxy, prints where it listens, and serves until SIGTERM/SIGINT.
    static func serve(_ configuration: ProxyConfiguration) throws -> ExitCode {
        let logger = ConnectionLogger(format: configuration.logFormat)
        // Start-up errors (a file that cannot be used, an address in use) propagate: the runner prints
        // "error: <file>: <reason>" and exits 1.
        let proxy = try ProxyServer(configuration: configuration, logger: logger)
        for warning in configuration.http?.warnings ?? [] { logger.event("warning", warning) }
        let address = try proxy.start()
        logger.event(
            "listening",
            "proxy \(configuration.mode.rawValue) on \(address) → \(configuration.target)"
                + (configuration.http == nil ? "" : "; mode http")
                + (proxy.credentials.policy.map { "; policy: \($0)" } ?? "")
                + (proxy.credentials.routes.map { "; routes: \($0)" } ?? ""))
        proxy.run()
        return .success
    }
}
