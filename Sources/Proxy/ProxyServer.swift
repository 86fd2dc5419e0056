import Dispatch
import Foundation
import NetCore
import Synchronization
import TLS

/// A running `symbolon proxy server|client`: event loops, listeners, the current credentials, hot reload (SIGHUP
/// and file changes), revocation of open connections, and a graceful drain on SIGTERM or SIGINT.
///
/// Long-running service: `run()` blocks until the proxy has drained.
public final class ProxyServer: Sendable {
    let environment: ProxyEnvironment
    let group: EventLoopGroup
    let registries: [ObjectIdentifier: ConnectionRegistry]
    private let listener = Mutex<Listener?>(nil)
    /// The fingerprint of the last reload that failed, so a broken file is reported once, not every second.
    private let lastFailure = Mutex<[FileFingerprint]?>(nil)
    private let stopping = Atomic<Bool>(false)

    /// Loads every file (failing with an error that names the file) and prepares the event loops.
    public init(configuration: ProxyConfiguration, logger: ConnectionLogger) throws {
        environment = ProxyEnvironment(
            configuration: configuration, logger: logger,
            credentials: try ProxyCredentials(configuration: configuration))
        let threads =
            configuration.threads > 0 ? configuration.threads : ProcessInfo.processInfo.activeProcessorCount
        group = try EventLoopGroup(loopCount: threads)
        // Registries are created here and each is only ever touched on its own loop.
        var registries: [ObjectIdentifier: ConnectionRegistry] = [:]
        for loop in group.loops {
            registries[ObjectIdentifier(loop)] = ConnectionRegistry(logBatch: LogBatch(logger: logger, loop: loop))
        }
        self.registries = registries
    }

    /// The credentials new connections use.
    public var credentials: ProxyCredentials { environment.credentials }

    /// Starts the loops and the listener; returns the address actually bound (port 0 becomes a real port).
    @discardableResult
    public func start() throws -> SocketAddress {
        NetCore.ignoreSIGPIPE()
        NetCore.raiseFileDescriptorLimit()
        group.start()
        let environment = self.environment
        let bound: Listener
        do {
            bound = try Listener.bind(environment.configuration.listen, group: group) { [self] channel in
                guard let registry = registries[ObjectIdentifier(channel.loop)] else {
                    channel.close()
                    return
                }
                environment.connectionStarted()
                let credentials = self.credentials
                if environment.configuration.http != nil {
                    HTTPProxyConnection.accept(
                        channel, environment: environment, registry: registry, credentials: credentials)
                } else {
                    ProxyConnection.accept(
                        channel, environment: environment, registry: registry, credentials: credentials)
                }
            }
        } catch {
            group.shutdown()
            throw ProxyError(
                .listenFailed, "cannot listen on \(environment.configuration.listen): \(error)")
        }
        listener.withLock { $0 = bound }
        return bound.localAddress
    }

    /// Re-reads every file and swaps the new credentials in. On failure the old ones stay and the error is returned
    /// (and logged). When the bundle or a CRL changed, open connections whose peer is no longer accepted are closed.
    @discardableResult
    public func reload(trigger: String) -> Result<Void, ProxyError> {
        let old = credentials
        let next: ProxyCredentials
        do {
            next = try ProxyCredentials(configuration: environment.configuration, ticketKey: old.context.ticketKey)
        } catch {
            let proxyError = (error as? ProxyError) ?? ProxyError(.badFile, "\(error)")
            lastFailure.withLock { $0 = environment.configuration.watchedFiles.map(FileFingerprint.init(path:)) }
            environment.logger.event(
                "reload-failed", "\(trigger): \(proxyError); still serving with the previous credentials")
            return .failure(proxyError)
        }
        environment.credentials = next
        lastFailure.withLock { $0 = nil }
        environment.logger.event("reloaded", "\(trigger): credentials, trust bundle, CRLs and policy re-read")
        if next.trustFingerprint != old.trustFingerprint { recheckOpenConnections(with: next.context.peerVerifier) }
        return .success(())
    }

    /// Whether any watched file differs from what the current credentials were built from (and from the last
    /// failed attempt, so a broken file is not retried every interval).
    func filesChanged() -> Bool {
        let now = environment.configuration.watchedFiles.map(FileFingerprint.init(path:))
        if now == credentials.fingerprint {
            // A failed reload, then the files put back as they were: say so once, nothing to reload.
            let recovered = lastFailure.withLock { failure in
                defer { failure = nil }
                return failure != nil
            }
            if recovered {
                environment.logger.event(
                    "reload-recovered", "the files are back as last loaded; still serving with those credentials")
            }
            return false
        }
        return lastFailure.withLock { $0 != now }
    }

    private func recheckOpenConnections(with verifier: PeerVerifier) {
        for loop in group.loops {
            guard let registry = registries[ObjectIdentifier(loop)] else { continue }
            // The registry is only touched inside this closure, on its own loop.
            loop.execute {
                for connection in registry.connections.values { connection.recheck(with: verifier) }
            }
        }
    }

    /// Stops accepting; open connections continue until they end or `drainTimeout` passes; then the loops stop.
    public func drain() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        listener.withLock { $0?.close() }
        let open = environment.openConnections
        environment.logger.event("draining", "stopped accepting; waiting for \(open) open connection(s)")
        let deadline = Date().addingTimeInterval(environment.configuration.drainTimeout.seconds)
        while environment.openConnections > 0, Date() < deadline { usleep(20_000) }
        let left = environment.openConnections
        if left > 0 { environment.logger.event("drain-timeout", "closing \(left) connection(s) still open") }
        group.shutdown()
        environment.logger.event("stopped", "drained")
    }

    /// Runs until SIGTERM or SIGINT (then drains); SIGHUP and watched file changes reload.
    public func run() {
        let signals = DispatchQueue(label: "symbolon.proxy.signals")
        let done = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceProtocol] = []
        for number in [SIGHUP, SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: signals)
            source.setEventHandler { [self] in
                if number == SIGHUP {
                    reload(trigger: "SIGHUP")
                } else {
                    DispatchQueue.global().async {
                        self.drain()
                        done.signal()
                    }
                }
            }
            source.resume()
            sources.append(source)
        }
        if let interval = environment.configuration.watchInterval {
            let timer = DispatchSource.makeTimerSource(queue: signals)
            let nanoseconds = Int(interval.seconds * 1e9)
            timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds))
            timer.setEventHandler { [self] in
                if !stopping.load(ordering: .relaxed), filesChanged() { reload(trigger: "file change") }
            }
            timer.resume()
            sources.append(timer)
        }
        done.wait()
        for source in sources { source.cancel() }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
