import NetCore
import TLS

/// TLS over one `StreamChannel`: drives a `TLSConnection` with the bytes the socket delivers, writes what TLS
/// produces straight to the socket, enforces the handshake timeout, and reports plaintext to its delegate.
///
/// Loop-confined: create and use it on the transport's event loop only.
public final class TLSChannel: StreamChannelHandler {
    public let transport: StreamChannel
    public let connection: TLSConnection
    /// Strong until the channel closes (then released), so a delegate needs no other owner.
    public var delegate: (any TLSChannelDelegate)?
    /// Why the channel failed (handshake refused, timeout, record error), once it has.
    public private(set) var failure: TLSError?
    private var handshakeTimer: TimerHandle?
    private var readingPaused = false
    private var eofReported = false
    private var closed = false

    /// Wraps `transport` and starts the handshake (a client sends its ClientHello now). The handshake must finish
    /// within `handshakeTimeout` or the channel is closed with a `handshakeTimeout` failure.
    public init(
        transport: StreamChannel, context: TLSContext, handshakeTimeout: Duration,
        delegate: (any TLSChannelDelegate)?
    ) throws {
        self.transport = transport
        self.delegate = delegate
        self.connection = try TLSConnection(context: context) { [transport] bytes in transport.write(bytes) }
        transport.handler = self
        handshakeTimer = transport.loop.schedule(after: handshakeTimeout) { [weak self] in
            guard let self, !self.connection.isHandshakeComplete else { return }
            self.fail(
                TLSError(
                    .handshakeTimeout,
                    "the peer did not complete the TLS handshake within \(handshakeTimeout.formatted)"))
        }
        if context.configuration.role == .client { advanceHandshake() }
    }

    /// The admitted peer, once the handshake completed.
    public var peer: PeerIdentity? { connection.isHandshakeComplete ? connection.peer : nil }
    public var isHandshakeComplete: Bool { connection.isHandshakeComplete }
    public var isClosed: Bool { closed }
    /// Whether more plaintext may be written without piling up (see `StreamChannel.isWritable`).
    public var isWritable: Bool { transport.isWritable }

    /// Encrypts and sends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard !closed else { return }
        do { try connection.write(bytes) } catch let error as TLSError { fail(error) } catch {}
    }

    /// Stops delivering plaintext (backpressure); bytes keep arriving into the buffers until the socket is paused.
    public func pauseReading() {
        readingPaused = true
        transport.pauseReading()
    }

    /// Resumes delivering plaintext, starting with what was buffered meanwhile.
    public func resumeReading() {
        guard readingPaused else { return }
        readingPaused = false
        transport.resumeReading()
        if connection.isHandshakeComplete { drainRecords() }
    }

    /// Sends close_notify and half-closes the socket after what is queued; the peer's remaining bytes are still read.
    public func shutdownOutput() {
        guard !closed else { return }
        connection.close()
        transport.shutdownOutput()
    }

    /// Closes now. With `refuse`, a fatal access_denied alert is sent first (a peer dropped after the handshake).
    public func close(refuse: Bool = false) {
        guard !closed else { return }
        if refuse { connection.refuse() }
        transport.close()
    }

    // MARK: StreamChannelHandler

    public func channel(_ channel: StreamChannel, didRead bytes: UnsafeRawBufferPointer) {
        connection.receive(bytes)
        if connection.isHandshakeComplete {
            if !readingPaused { drainRecords() }
        } else {
            advanceHandshake()
        }
    }

    public func channelDidReadEOF(_ channel: StreamChannel) {
        connection.receiveEOF()
        if !connection.isHandshakeComplete {
            advanceHandshake()
            if !connection.isHandshakeComplete, !closed {
                fail(TLSError(.prematureClose, "the peer closed the connection during the TLS handshake"))
            }
            return
        }
        if !readingPaused { drainRecords() }
        reportEOF()
    }

    public func channelWritabilityChanged(_ channel: StreamChannel) {
        delegate?.tlsChannelWritabilityChanged(self)
    }

    public func channelDidClose(_ channel: StreamChannel, error: NetError?) {
        guard !closed else { return }
        closed = true
        handshakeTimer?.cancel()
        handshakeTimer = nil
        let delegate = self.delegate
        self.delegate = nil
        delegate?.tlsChannelDidClose(self, error: failure ?? error)
    }

    // MARK: Driving TLS

    private func advanceHandshake() {
        switch connection.handshake() {
        case .wantInput: return
        case .failed(let error): fail(error)
        case .complete:
            handshakeTimer?.cancel()
            handshakeTimer = nil
            delegate?.tlsChannelDidHandshake(self)
            if !closed, !readingPaused, connection.bufferedInputCount > 0 || connection.hasBufferedPlaintext {
                drainRecords()
            }
        }
    }

    /// Most plaintext gathered from consecutive records before it is handed on in one piece.
    static let coalescingLimit = 64 * 1024

    /// Hands decrypted records to the delegate. A single record goes straight from GnuTLS's buffer; when several
    /// are already buffered (bulk transfer), they are gathered (up to 64 KiB) and handed on together, so the
    /// receiving side writes once instead of once per 16 KiB record.
    private func drainRecords() {
        var gathered: [UInt8] = []
        defer {
            if !gathered.isEmpty, !closed { gathered.withUnsafeBytes { delegate?.tlsChannel(self, didRead: $0) } }
        }
        while !readingPaused, !closed {
            let status = connection.read { bytes in
                let more = connection.bufferedInputCount > 0 || connection.hasBufferedPlaintext
                if gathered.isEmpty, !more {
                    delegate?.tlsChannel(self, didRead: bytes)
                    return
                }
                gathered.append(contentsOf: bytes)
            }
            if gathered.count >= TLSChannel.coalescingLimit {
                let chunk = gathered
                gathered = []
                chunk.withUnsafeBytes { delegate?.tlsChannel(self, didRead: $0) }
            }
            switch status {
            case .data: continue
            case .wantInput: return
            case .closed:
                if !gathered.isEmpty {
                    let chunk = gathered
                    gathered = []
                    chunk.withUnsafeBytes { delegate?.tlsChannel(self, didRead: $0) }
                }
                reportEOF()
                return
            case .failed(let error):
                fail(error)
                return
            }
        }
    }

    private func reportEOF() {
        guard !eofReported else { return }
        eofReported = true
        delegate?.tlsChannelDidReadEOF(self)
    }

    private func fail(_ error: TLSError) {
        if failure == nil { failure = error }
        transport.close()
    }
}

extension Duration {
    /// "10 s", "250 ms".
    var formatted: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }
}
