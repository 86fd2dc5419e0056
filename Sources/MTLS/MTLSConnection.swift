import NetCore
import TLS

/// One admitted mTLS connection handed to an `MTLSServer` handler: who the peer is, and a way to read and write.
///
/// Loop-confined: use it (and set its callbacks) on the thread that called the handler — its event loop. Callbacks
/// run there too. Do not block in them.
public final class MTLSConnection: TLSChannelDelegate {
    let channel: TLSChannel
    /// Called with each chunk of decrypted bytes (valid only during the call).
    public var onRead: ((MTLSConnection, UnsafeRawBufferPointer) -> Void)?
    /// Called once when the peer finished sending.
    public var onEndOfInput: ((MTLSConnection) -> Void)?
    /// Called once when the connection closed, with the error if it failed.
    public var onClose: ((MTLSConnection, (any Error)?) -> Void)?

    init(channel: TLSChannel) {
        self.channel = channel
    }

    /// The verified peer: its chain, SPIFFE ID, names. Unauthenticated only in `request` mode.
    public var peer: PeerIdentity { channel.connection.peer ?? .unauthenticated }
    /// The rule that admitted the peer, when an authorizer was configured.
    public var authorization: String? { channel.connection.authorizationDetail }
    /// Protocol, cipher, resumption.
    public var sessionInfo: TLSSessionInfo { channel.connection.sessionInfo }
    /// The peer's address.
    public var remoteAddress: SocketAddress? { channel.transport.remoteAddress }
    /// The event loop this connection lives on (for timers).
    public var loop: EventLoop { channel.transport.loop }

    /// Encrypts and sends `bytes`.
    public func write(_ bytes: [UInt8]) { bytes.withUnsafeBytes { channel.write($0) } }
    /// Encrypts and sends `text` as UTF-8.
    public func write(_ text: String) { write(Array(text.utf8)) }
    /// Whether the send queue is under its high watermark.
    public var isWritable: Bool { channel.isWritable }
    /// Sends close_notify; the connection closes when the peer closes too.
    public func finish() { channel.shutdownOutput() }
    /// Closes now.
    public func close() { channel.close() }

    public func tlsChannelDidHandshake(_ channel: TLSChannel) {}
    public func tlsChannel(_ channel: TLSChannel, didRead bytes: UnsafeRawBufferPointer) { onRead?(self, bytes) }
    public func tlsChannelDidReadEOF(_ channel: TLSChannel) {
        if let onEndOfInput { onEndOfInput(self) } else { channel.shutdownOutput() }
    }
    public func tlsChannelWritabilityChanged(_ channel: TLSChannel) {}
    public func tlsChannelDidClose(_ channel: TLSChannel, error: (any Error)?) {
        let onClose = self.onClose
        self.onClose = nil
        onRead = nil
        onEndOfInput = nil
        onClose?(self, error)
    }
}
