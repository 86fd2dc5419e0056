/// Receives a stream channel's events. Every call arrives on the channel's loop thread.
///
/// The channel holds its handler strongly and drops it after `channelDidClose`, so a handler may hold its channel
/// strongly without leaking.
public protocol StreamChannelHandler: AnyObject {
    /// Bytes arrived. They live in the loop's shared read buffer and are valid only during this call: copy what
    /// must outlive it. Writing them to another channel (which copies what the kernel does not take) is fine.
    func channel(_ channel: StreamChannel, didRead bytes: UnsafeRawBufferPointer)

    /// Queued output fell below the low watermark after having risen above the high one: `isWritable` is true
    /// again. Use it to resume a paused producer. (Becoming unwritable is not announced: check `isWritable` after
    /// a write.)
    func channelWritabilityChanged(_ channel: StreamChannel)

    /// The peer half-closed its side: no more bytes will arrive. The channel stays open for writing; close it or
    /// call `shutdownOutput()` when done (after both sides are shut the channel closes itself).
    func channelDidReadEOF(_ channel: StreamChannel)

    /// The channel closed, by `close()` (error `nil`), by both sides finishing (`nil`), or by a failure. Called
    /// exactly once; the channel then releases its handler.
    func channelDidClose(_ channel: StreamChannel, error: NetError?)
}

extension StreamChannelHandler {
    /// By default writability changes are ignored.
    public func channelWritabilityChanged(_ channel: StreamChannel) {}
    /// By default a peer's half-close closes the channel.
    public func channelDidReadEOF(_ channel: StreamChannel) { channel.close() }
}
