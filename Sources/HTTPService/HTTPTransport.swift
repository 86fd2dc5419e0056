import MTLS
import NetCore
import TLS

/// What a transport reports to the server connection or client exchange that owns it. Every call arrives on the
/// transport's loop thread.
protocol HTTPTransportOwner: AnyObject {
    /// Plaintext may flow: at once for a plain socket, after the handshake (and admission) with TLS.
    func transportIsReady(_ transport: HTTPTransport)
    /// Bytes arrived (plaintext), valid only during the call.
    func transport(_ transport: HTTPTransport, didRead bytes: UnsafeRawBufferPointer)
    /// The peer finished sending.
    func transportDidReadEOF(_ transport: HTTPTransport)
    /// Queued output fell back under the low watermark.
    func transportWritabilityChanged(_ transport: HTTPTransport)
    /// The connection closed, with why when it failed (a `NetError` or, with TLS, a `TLSError`). Called once.
    func transport(_ transport: HTTPTransport, didCloseWith error: (any Error)?)
}

/// One socket, with TLS over it or not, behind one surface, so the HTTP code above never asks which.
///
/// Holds its owner strongly until the socket closes (the socket holds the transport), then lets go: a connection
/// needs no other owner while it is open and leaks nothing after. Loop-confined.
final class HTTPTransport: StreamChannelHandler, TLSChannelDelegate {
    let channel: StreamChannel
    private(set) var tls: TLSChannel?
    private var owner: (any HTTPTransportOwner)?
    private(set) var isReady = false
    private(set) var isClosed = false

    init(channel: StreamChannel) {
        self.channel = channel
    }

    /// Starts reading and reporting to `owner`; with `context`, runs TLS over the socket first (a client sends its
    /// ClientHello now). `owner` may hear of readiness or the close before this returns.
    /// - Throws: `TLSError` when GnuTLS cannot set up a session; the socket is closed and `owner` is not told.
    func start(owner newOwner: any HTTPTransportOwner, tls context: TLSContext?, handshakeTimeout: Duration) throws {
        owner = newOwner
        guard let context else {
            channel.handler = self
            isReady = true
            owner?.transportIsReady(self)
            return
        }
        do {
            tls = try TLSChannel(
                transport: channel, context: context, handshakeTimeout: handshakeTimeout, delegate: self)
        } catch {
            owner = nil
            isClosed = true
            channel.close()
            throw error
        }
    }

    /// The verified peer, once the TLS handshake completed; nil for a plain socket.
    var peer: PeerIdentity? { tls?.peer }
    var loop: EventLoop { channel.loop }
    var remoteAddress: SocketAddress? { channel.remoteAddress }
    var isWritable: Bool { channel.isWritable }

    func write(_ bytes: [UInt8]) {
        guard !isClosed, !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { raw in
            if let tls { tls.write(raw) } else { channel.write(raw) }
        }
    }

    func pauseReading() {
        if let tls { tls.pauseReading() } else { channel.pauseReading() }
    }

    func resumeReading() {
        if let tls { tls.resumeReading() } else { channel.resumeReading() }
    }

    /// close_notify (with TLS) and FIN once queued bytes are sent; the peer's bytes are still read.
    func shutdownOutput() {
        if let tls { tls.shutdownOutput() } else { channel.shutdownOutput() }
    }

    /// Closes now; queued bytes are dropped.
    func close() {
        if let tls { tls.close() } else { channel.close() }
    }

    private func closed(_ error: (any Error)?) {
        guard !isClosed else { return }
        isClosed = true
        let owner = self.owner
        self.owner = nil
        owner?.transport(self, didCloseWith: error)
    }

    // MARK: StreamChannelHandler (plain; with TLS the TLSChannel is the socket's handler)

    func channel(_ channel: StreamChannel, didRead bytes: UnsafeRawBufferPointer) {
        owner?.transport(self, didRead: bytes)
    }

    func channelDidReadEOF(_ channel: StreamChannel) { owner?.transportDidReadEOF(self) }

    func channelWritabilityChanged(_ channel: StreamChannel) { owner?.transportWritabilityChanged(self) }

    func channelDidClose(_ channel: StreamChannel, error: NetError?) { closed(error) }

    // MARK: TLSChannelDelegate

    func tlsChannelDidHandshake(_ channel: TLSChannel) {
        isReady = true
        owner?.transportIsReady(self)
    }

    func tlsChannel(_ channel: TLSChannel, didRead bytes: UnsafeRawBufferPointer) {
        owner?.transport(self, didRead: bytes)
    }

    func tlsChannelDidReadEOF(_ channel: TLSChannel) { owner?.transportDidReadEOF(self) }

    func tlsChannelWritabilityChanged(_ channel: TLSChannel) { owner?.transportWritabilityChanged(self) }

    func tlsChannelDidClose(_ channel: TLSChannel, error: (any Error)?) { closed(error) }
}
