import Foundation
import MTLS
import NetCore
import TLS
import X509

/// One proxied connection: the accepted socket (downstream) and the one to the target (upstream), each plaintext or
/// TLS. Server mode: mTLS downstream (the client is admitted here), plaintext or TLS upstream. Client mode: plaintext
/// downstream (the local app), mTLS upstream (the server is verified here). Bytes are pumped both ways under
/// backpressure, half-closes are passed through, and one log record is written when both sides are done.
///
/// Loop-confined: created and used on one event loop thread.
final class ProxyConnection: ProxySideOwner, ProxiedConnection {
    let environment: ProxyEnvironment
    let registry: ConnectionRegistry
    let loop: EventLoop
    let credentials: ProxyCredentials
    let downstream = ProxySide(role: .downstream)
    let upstream = ProxySide(role: .upstream)
    private var record: ConnectionRecord
    private let started: UInt64
    private var finished = false
    /// Downstream bytes read before the upstream side was ready (connected, and through its handshake).
    private var early: [UInt8] = []
    private lazy var idle = IdleWatch(
        loop: loop, limit: { [unowned self] in currentIdleLimit },
        pending: { [unowned self] in downstream.pendingWriteBytes + upstream.pendingWriteBytes },
        expired: { [weak self] limit in self?.idleExpired(after: limit) })

    private init(
        environment: ProxyEnvironment, registry: ConnectionRegistry, loop: EventLoop, credentials: ProxyCredentials,
        peer: String
    ) {
        self.environment = environment
        self.registry = registry
        self.loop = loop
        self.credentials = credentials
        self.record = ConnectionRecord(peer: peer)
        self.started = loop.nowNanoseconds()
        downstream.connection = self
        upstream.connection = self
    }

    private var configuration: ProxyConfiguration { environment.configuration }
    private var mode: ProxyConfiguration.Mode { configuration.mode }

    /// The side whose peer was authenticated by certificate: the client in server mode, the server in client mode.
    private var authenticatedSide: ProxySide { mode == .server ? downstream : upstream }

    /// An accepted socket. Server mode: the TLS handshake starts now. Client mode: the upstream connection does.
    static func accept(
        _ channel: StreamChannel, environment: ProxyEnvironment, registry: ConnectionRegistry,
        credentials: ProxyCredentials
    ) {
        let connection = ProxyConnection(
            environment: environment, registry: registry, loop: channel.loop, credentials: credentials,
            peer: channel.remoteAddress?.description ?? "-")
        registry.add(connection)
        connection.downstream.attach(channel)
        switch environment.configuration.mode {
        case .server:
            do {
                try connection.downstream.startTLS(
                    context: credentials.context, handshakeTimeout: environment.configuration.handshakeTimeout)
            } catch {
                connection.fail(.failed, "cannot start TLS: \(error)")
            }
        case .client:
            channel.pauseReading()
            connection.connectUpstream()
        }
    }

    private func other(_ side: ProxySide) -> ProxySide { side === downstream ? upstream : downstream }

    // MARK: Upstream

    private func connectUpstream() {
        let target = configuration.target
        StreamChannel.connect(to: target, on: loop, timeout: configuration.connectTimeout) { [self] result in
            switch result {
            case .failure(let error):
                fail(.failed, "cannot connect to the target \(target): \(error)")
            case .success(let channel):
                guard !finished else {
                    channel.close()
                    return
                }
                upstreamConnected(channel)
            }
        }
    }

    private func upstreamConnected(_ channel: StreamChannel) {
        upstream.attach(channel)
        // The PROXY header precedes everything, TLS to the target included.
        if mode == .server, configuration.sendsProxyProtocol, let tls = downstream.tls {
            let info = tls.connection.sessionInfo
            let peer = tls.connection.peer
            let header = ProxyProtocolHeader(
                source: tls.transport.remoteAddress, destination: tls.transport.localAddress,
                identity: peer?.isAuthenticated == true ? peer?.description : nil,
                commonName: peer?.leaf?.subject.commonName, tlsVersion: info.protocolVersion, cipher: info.cipher,
                clientCertificatePresented: peer?.isAuthenticated == true)
            channel.write(header.bytes)
        }
        guard let context = credentials.upstreamContext else {
            upstreamReady()
            return
        }
        do {
            try upstream.startTLS(context: context, handshakeTimeout: configuration.handshakeTimeout)
        } catch {
            fail(.failed, "cannot start TLS to the target: \(error)")
        }
    }

    private func upstreamReady() {
        if !early.isEmpty {
            early.withUnsafeBytes { upstream.write($0) }
            early = []
        }
        if downstream.receivedEOF { upstream.shutdownOutput() }
        downstream.resumeReading()
        idle.start()
    }

    // MARK: Events from the sides

    func sideDidHandshake(_ side: ProxySide) {
        guard let tls = side.tls else { return }
        if side === authenticatedSide { record.noteAdmitted(tls) }
        if side === downstream {
            // Server mode: the client is admitted; hold its bytes until the target is ready.
            downstream.pauseReading()
            connectUpstream()
        } else {
            upstreamReady()
        }
    }

    func side(_ side: ProxySide, didRead bytes: UnsafeRawBufferPointer) {
        idle.touch()
        if side === downstream { record.bytesIn += bytes.count } else { record.bytesOut += bytes.count }
        let destination = other(side)
        guard destination.isReady else {
            // Reading is paused while the other side gets ready; anything already read waits here.
            early.append(contentsOf: bytes)
            return
        }
        destination.write(bytes)
        if !destination.isWritable { side.pauseReading() }
    }

    func sideWritabilityChanged(_ side: ProxySide) {
        if side.isWritable { other(side).resumeReading() }
    }

    func sideDidReadEOF(_ side: ProxySide) {
        let destination = other(side)
        if destination.isReady { destination.shutdownOutput() }
        closeIfDone()
        // Half-closed, the connection now waits for the other side: from here on it gets the shorter linger
        // timeout, so a peer that never reads (or never closes) cannot hold it for the whole idle timeout.
        if !finished { idle.limitChanged() }
    }

    func side(_ side: ProxySide, didCloseWith error: (any Error)?) {
        if let tls = side.tls, !tls.isHandshakeComplete {
            recordHandshakeFailure(of: side, tls: tls, error: error)
        } else if let error, !(downstream.receivedEOF && upstream.receivedEOF), record.decision == .allowed {
            // Many clients close without close_notify once they have their answer: not worth a note.
            if (error as? TLSError)?.code != .prematureClose {
                let who = side === downstream ? (mode == .server ? "client" : "local app") : "target"
                record.reason += "; \(who) connection closed: \(error)"
            }
        }
        other(side).close()
        finish()
    }

    private func recordHandshakeFailure(of side: ProxySide, tls: TLSChannel, error: (any Error)?) {
        guard record.decision != .revoked, !finished else { return }
        if side === authenticatedSide {
            record.noteRefusal(tls, error: error)
        } else {
            // Server mode with TLS to the target: the target's side failed; the client was admitted.
            let reason = (error.map { "\($0)" }) ?? tls.connection.rejection?.reason ?? "closed during the handshake"
            record.decision = .failed
            record.reason += "; TLS to the target failed: \(reason)"
        }
    }

    // MARK: Ending

    func recheck(with verifier: PeerVerifier) {
        guard let failure = ConnectionRecord.revocation(of: authenticatedSide.tls, by: verifier) else { return }
        record.decision = .revoked
        record.reason = "closed after reload: \(failure)"
        authenticatedSide.close(refuse: true)
        other(authenticatedSide).close()
        finish()
    }

    /// How long a connection may go without progress: the idle timeout, or once one direction has ended, the
    /// shorter of it and `ProxyConnection.halfClosedLinger`.
    private var currentIdleLimit: Duration {
        let halfClosed = downstream.receivedEOF || upstream.receivedEOF
        return halfClosed ? min(configuration.idleTimeout, ProxyConnection.halfClosedLinger) : configuration.idleTimeout
    }

    /// Longest wait, after one side finished sending, for the other side to take its bytes or finish too.
    static let halfClosedLinger: Duration = .seconds(30)

    private func idleExpired(after limit: Duration) {
        guard !finished else { return }
        let halfClosed = limit < configuration.idleTimeout
        record.reason +=
            "; closed after \(Int(limit.seconds))s without progress"
            + (halfClosed ? " after one side finished (half-close linger)" : " (idle timeout)")
        downstream.close()
        upstream.close()
        finish()
    }

    /// Both directions ended: close once the queued bytes are out (bounded wait).
    private func closeIfDone(attempt: Int = 0) {
        guard downstream.receivedEOF, upstream.receivedEOF, !finished else { return }
        if downstream.pendingWriteBytes + upstream.pendingWriteBytes > 0, attempt < 200 {
            loop.schedule(after: .milliseconds(25)) { [self] in closeIfDone(attempt: attempt + 1) }
            return
        }
        downstream.close()
        upstream.close()
        finish()
    }

    private func fail(_ decision: ConnectionRecord.Decision, _ reason: String) {
        if !finished {
            record.decision = decision
            record.reason = reason
        }
        downstream.close()
        upstream.close()
        finish()
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        idle.stop()
        record.durationMilliseconds = Double(loop.nowNanoseconds() &- started) / 1_000_000
        registry.logBatch.log(record)
        registry.remove(self)
        environment.connectionEnded()
    }
}
