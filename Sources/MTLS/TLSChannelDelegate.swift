/// Receives what happens on a `TLSChannel`. Every call arrives on the channel's event loop thread.
public protocol TLSChannelDelegate: AnyObject {
    /// The handshake completed and the peer was admitted (`channel.peer` is set).
    func tlsChannelDidHandshake(_ channel: TLSChannel)
    /// Decrypted application bytes, valid only during the call.
    func tlsChannel(_ channel: TLSChannel, didRead bytes: UnsafeRawBufferPointer)
    /// The peer finished sending (close_notify or end of the transport).
    func tlsChannelDidReadEOF(_ channel: TLSChannel)
    /// The channel's pending writes fell back under the low watermark (resume a paused source).
    func tlsChannelWritabilityChanged(_ channel: TLSChannel)
    /// The channel closed, with the reason when it failed. Called exactly once.
    func tlsChannelDidClose(_ channel: TLSChannel, error: (any Error)?)
}
