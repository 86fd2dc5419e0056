import MTLS
import NetCore
import TLS

/// What a side reports to the connection that owns it.
protocol ProxySideOwner: AnyObject {
    func sideDidHandshake(_ side: ProxySide)
    func side(_ side: ProxySide, didRead bytes: UnsafeRawBufferPointer)
    func sideWritabilityChanged(_ side: ProxySide)
    func sideDidReadEOF(_ side: ProxySide)
    func side(_ side: ProxySide, didCloseWith error: (any Error)?)
}

/// One end of a proxied connection — the accepted socket (downstream) or the one to the target (upstream) —
/// optionally with TLS over it. It hides which, and tells its connection what happened and on which side.
///
/// Loop-confined, like its connection.
final class ProxySide: StreamChannelHandler, TLSChannelDelegate {
    enum Role { case downstream, upstream }

    let role: Role
    /// Weak: the connection owns its sides; a late callback after the connection is gone is dropped.
    weak var connection: (any ProxySideOwner)?
    private(set) var transport: StreamChannel?
    private(set) var tls: TLSChannel?
    /// The peer finished sending.
    private(set) var receivedEOF = false

    init(role: Role) { self.role = role }

    /// Takes a connected socket; bytes are reported as they come (plaintext) until `startTLS` is called.
    func attach(_ channel: StreamChannel) {
        transport = channel
        channel.handler = self
    }

    /// Runs TLS over the attached socket (a client side starts its handshake now).
    func startTLS(context: TLSContext, handshakeTimeout: Duration) throws {
        guard let transport else { return }
        tls = try TLSChannel(
            transport: transport, context: context, handshakeTimeout: handshakeTimeout, delegate: self)
    }

    /// Connected, and through its handshake when it runs TLS.
    var isReady: Bool { transport != nil && (tls?.isHandshakeComplete ?? true) }
    var isWritable: Bool { transport?.isWritable ?? true }
    var pendingWriteBytes: Int { transport?.pendingWriteBytes ?? 0 }
    /// Closed (by either end); nothing more can be written.
    private(set) var isClosed = false

    func write(_ bytes: UnsafeRawBufferPointer) {
        if let tls { tls.write(bytes) } else { transport?.write(bytes) }
    }

    func pauseReading() {
        if let tls { tls.pauseReading() } else { transport?.pauseReading() }
    }

    func resumeReading() {
        if let tls { tls.resumeReading() } else { transport?.resumeReading() }
    }

    /// Half-close: close_notify (with TLS) and FIN after what is queued.
    func shutdownOutput() {
        if let tls { tls.shutdownOutput() } else { transport?.shutdownOutput() }
    }

    /// Closes now; with `refuse`, a TLS side sends an access_denied alert first.
    func close(refuse: Bool = false) {
        if let tls { tls.close(refuse: refuse) } else { transport?.close() }
    }

    // MARK: StreamChannelHandler (a plaintext side; with TLS, the TLSChannel is the socket's handler)

    func channel(_ channel: StreamChannel, didRead bytes: UnsafeRawBufferPointer) {
        connection?.side(self, didRead: bytes)
    }

    func channelDidReadEOF(_ channel: StreamChannel) {
        receivedEOF = true
        connection?.sideDidReadEOF(self)
    }

    func channelWritabilityChanged(_ channel: StreamChannel) { connection?.sideWritabilityChanged(self) }

    func channelDidClose(_ channel: StreamChannel, error: NetError?) {
        isClosed = true
        connection?.side(self, didCloseWith: error)
    }

    // MARK: TLSChannelDelegate

    func tlsChannelDidHandshake(_ channel: TLSChannel) { connection?.sideDidHandshake(self) }

    func tlsChannel(_ channel: TLSChannel, didRead bytes: UnsafeRawBufferPointer) {
        connection?.side(self, didRead: bytes)
    }

    func tlsChannelDidReadEOF(_ channel: TLSChannel) {
        receivedEOF = true
        connection?.sideDidReadEOF(self)
    }

    func tlsChannelWritabilityChanged(_ channel: TLSChannel) { connection?.sideWritabilityChanged(self) }

    func tlsChannelDidClose(_ channel: TLSChannel, error: (any Error)?) {
        isClosed = true
        connection?.side(self, didCloseWith: error)
    }
}
