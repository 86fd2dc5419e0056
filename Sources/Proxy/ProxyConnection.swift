import Foundation
import MTLS
import NetCore
import TLS
import X509

/// One proxied connection: a TLS side (the client's mTLS connection in server mode, the upstream mTLS connection
/// in client mode) and a plaintext side (the target, or the local app), with bytes pumped between them under
/// backpressure, half-closes passed through, and one log record written when both sides are done.
///
/// Loop-confined: created and used on one event loop thread.
final class ProxyConnection: TLSChannelDelegate, StreamChannelHandler {
    let environment: ProxyEnvironment
    let registry: ConnectionRegistry
    let loop: EventLoop
    let credentials: ProxyCredentials
    private(set) var tls: TLSChannel?
    private(set) var plain: StreamChannel?
    private var record: ConnectionRecord
    private let started: UInt64
    private var tlsEOF = false
    private var plainEOF = false
    private var finished = false
    /// Bytes read from one side before the other side was ready (server mode: the target connection; client mode:
    /// the upstream handshake).
    private var early: [UInt8] = []
    /// Monotonic time of the last byte in either direction, for the idle timeout.
    private var lastActivity: UInt64 = 0
    private var idleTimer: TimerHandle?

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
    }

    /// Server mode: an accepted client socket; the TLS handshake starts now.
    static func acceptTLS(
        _ channel: StreamChannel, environment: ProxyEnvironment, registry: ConnectionRegistry,
        credentials: ProxyCredentials
    ) {
        let connection = ProxyConnection(
            environment: environment, registry: registry, loop: channel.loop, credentials: credentials,
            peer: channel.remoteAddress?.description ?? "-")
        registry.add(connection)
        do {
            connection.tls = try TLSChannel(
                transport: channel, context: credentials.context,
                handshakeTimeout: environment.configuration.handshakeTimeout, delegate: connection)
        } catch {
            connection.record.reason = "cannot start TLS: \(error)"
            channel.close()
            connection.finish()
        }
    }

    /// Client mode: an accepted plaintext socket from the local app; the upstream connection starts now.
    static func acceptPlain(
        _ channel: StreamChannel, environment: ProxyEnvironment, registry: ConnectionRegistry,
        credentials: ProxyCredentials
    ) {
        let connection = ProxyConnection(
            environment: environment, registry: registry, loop: channel.loop, credentials: credentials,
            peer: channel.remoteAddress?.description ?? "-")
        registry.add(connection)
        connection.plain = channel
        channel.handler = connection
        channel.pauseReading()
        connection.connectTarget()
    }

    private var mode: ProxyConfiguration.Mode { environment.configuration.mode }

    private func connectTarget() {
        let target = environment.configuration.target
        StreamChannel.connect(to: target, on: loop, timeout: environment.configuration.connectTimeout) {
            [self] result in
            switch result {
            case .failure(let error):
                fail(.failed, "cannot connect to the target \(target): \(error)")
            case .success(let channel):
                guard !finished else {
                    channel.close()
                    return
                }
                targetConnected(channel)
            }
        }
    }

    private func targetConnected(_ channel: StreamChannel) {
        switch mode {
        case .server:
            plain = channel
            channel.handler = self
            if environment.configuration.sendsProxyProtocol, let tls {
                let info = tls.connection.sessionInfo
                let peer = tls.connection.peer
                let header = ProxyProtocolHeader(
                    source: tls.transport.remoteAddress, destination: tls.transport.localAddress,
                    identity: peer?.isAuthenticated == true ? peer?.description : nil,
                    commonName: peer?.leaf?.subject.commonName, tlsVersion: info.protocolVersion, cipher: info.cipher,
                    clientCertificatePresented: peer?.isAuthenticated == true)
                channel.write(header.bytes)
            }
            if !early.isEmpty {
                channel.write(early)
                early = []
            }
            if tlsEOF { channel.shutdownOutput() }
            tls?.resumeReading()
            watchIdle()
        case .client:
            do {
                tls = try TLSChannel(
                    transport: channel, context: credentials.context,
                    handshakeTimeout: environment.configuration.handshakeTimeout, delegate: self)
            } catch {
                channel.close()
                fail(.failed, "cannot start TLS to the target: \(error)")
            }
        }
    }

    // MARK: TLS side

    func tlsChannelDidHandshake(_ channel: TLSChannel) {
        let info = channel.connection.sessionInfo
        record.tlsVersion = info.protocolVersion
        record.cipher = info.cipher
        record.resumed = info.resumed
        record.identity = channel.connection.peer?.description ?? "-"
        record.decision = .allowed
        record.reason = channel.connection.authorizationDetail.map { "allowed by \($0)" } ?? "verified"
        switch mode {
        case .server:
            channel.pauseReading()
            connectTarget()
        case .client:
            if !early.isEmpty {
                early.withUnsafeBytes { channel.write($0) }
                early = []
            }
            plain?.resumeReading()
            watchIdle()
        }
    }

    func tlsChannel(_ channel: TLSChannel, didRead bytes: UnsafeRawBufferPointer) {
        lastActivity = loop.nowNanoseconds()
        if mode == .server { record.bytesIn += bytes.count } else { record.bytesOut += bytes.count }
        guard let plain else {
            early.append(contentsOf: bytes)
            return
        }
        plain.write(bytes)
        if !plain.isWritable { channel.pauseReading() }
    }

    func tlsChannelDidReadEOF(_ channel: TLSChannel) {
        tlsEOF = true
        plain?.shutdownOutput()
        closeIfDone()
    }

    func tlsChannelWritabilityChanged(_ channel: TLSChannel) {
        if channel.isWritable { plain?.resumeReading() }
    }

    func tlsChannelDidClose(_ channel: TLSChannel, error: (any Error)?) {
        if !channel.isHandshakeComplete {
            let rejected = channel.connection.rejection
            record.decision = rejected != nil || isRefusal(error) ? .denied : .failed
            record.identity = identityOfRefused(channel) ?? record.identity
            record.reason = (error.map { "\($0)" }) ?? rejected?.reason ?? "closed during the handshake"
        } else if let error, record.decision == .allowed, !(tlsEOF && plainEOF) {
            // Many clients close without close_notify once they have their answer: not worth a note.
            if (error as? TLSError)?.code != .prematureClose { record.reason += "; closed: \(error)" }
        }
        plain?.close()
        finish()
    }

    private func isRefusal(_ error: (any Error)?) -> Bool {
        guard let error = error as? TLSError else { return false }
        return [.peerCertificateMissing, .peerCertificateRejected, .peerNotAuthorized].contains(error.code)
    }

    /// The identity a refused peer claimed (its leaf's names), for the log: parsing it is only done on refusal.
    private func identityOfRefused(_ channel: TLSChannel) -> String? {
        guard let error = channel.connection.rejection, error.code != .peerCertificateMissing else { return nil }
        return channel.connection.presentedLeafDescription
    }

    // MARK: Plain side

    func channel(_ channel: StreamChannel, didRead bytes: UnsafeRawBufferPointer) {
        lastActivity = loop.nowNanoseconds()
        if mode == .server { record.bytesOut += bytes.count } else { record.bytesIn += bytes.count }
        guard let tls, tls.isHandshakeComplete else {
            // Reading is paused until the upstream handshake completes; anything already read waits here.
            early.append(contentsOf: bytes)
            return
        }
        tls.write(bytes)
        if !tls.isWritable { channel.pauseReading() }
    }

    func channelDidReadEOF(_ channel: StreamChannel) {
        plainEOF = true
        tls?.shutdownOutput()
        closeIfDone()
    }

    func channelWritabilityChanged(_ channel: StreamChannel) {
        if channel.isWritable { tls?.resumeReading() }
    }

    func channelDidClose(_ channel: StreamChannel, error: NetError?) {
        if let error, !(tlsEOF && plainEOF) {
            record.reason += "; \(mode == .server ? "target" : "local app") closed: \(error)"
        }
        tls?.close()
        finish()
    }

    // MARK: Ending

    /// Starts watching for inactivity: one timer per connection at a quarter of the idle timeout, not one per byte.
    private func watchIdle() {
        lastActivity = loop.nowNanoseconds()
        scheduleIdleCheck()
    }

    private func scheduleIdleCheck() {
        idleTimer = loop.schedule(after: environment.configuration.idleTimeout / 4) { [weak self] in
            self?.checkIdle()
        }
    }

    private func checkIdle() {
        guard !finished else { return }
        let timeout = environment.configuration.idleTimeout
        guard Double(loop.nowNanoseconds() &- lastActivity) / 1e9 >= timeout.seconds else {
            scheduleIdleCheck()
            return
        }
        record.reason += "; closed after \(Int(timeout.seconds))s without traffic (idle timeout)"
        tls?.close()
        plain?.close()
        finish()
    }

    /// Closes the connection because a new CRL (or bundle) no longer accepts its peer.
    func recheck(with verifier: PeerVerifier) {
        guard let tls, tls.isHandshakeComplete, let peer = tls.connection.peer, peer.isAuthenticated else { return }
        if case .failure(let failure) = verifier.verify(certificates: peer.chain) {
            record.decision = .revoked
            record.reason = "closed after reload: \(failure)"
            tls.close(refuse: true)
            plain?.close()
            finish()
        }
    }

    /// Both directions ended: close once the queued bytes are out (bounded wait).
    private func closeIfDone(attempt: Int = 0) {
        guard tlsEOF, plainEOF, !finished else { return }
        let pending = (tls?.transport.pendingWriteBytes ?? 0) + (plain?.pendingWriteBytes ?? 0)
        if pending > 0, attempt < 200 {
            loop.schedule(after: .milliseconds(25)) { [self] in closeIfDone(attempt: attempt + 1) }
            return
        }
        tls?.close()
        plain?.close()
        finish()
    }

    private func fail(_ decision: ConnectionRecord.Decision, _ reason: String) {
        record.decision = decision
        record.reason = reason
        tls?.close()
        plain?.close()
        finish()
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        idleTimer?.cancel()
        idleTimer = nil
        record.durationMilliseconds = Double(loop.nowNanoseconds() &- started) / 1_000_000
        environment.logger.log(record)
        registry.remove(self)
        environment.connectionEnded()
    }
}
