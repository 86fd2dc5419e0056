internal import CShims
internal import Glibc

/// A connected, non-blocking TCP or unix-domain stream socket on one event loop.
///
/// Loop-confined: create, use and close it on its loop's thread only; the handler is called there too.
///
/// There is no per-channel read buffer: reads go into the loop's shared 64 KiB buffer and are handed to the
/// handler synchronously. Writes go to the socket at once; only what the kernel does not take is copied into a
/// queue, flushed when epoll reports the socket writable. Reading stops while the handler is `nil`, so bytes that
/// arrive before a handler is set wait in the kernel.
public final class StreamChannel {
    /// When queued output makes a channel unwritable and when it becomes writable again.
    public struct WriteWatermarks: Sendable, Hashable {
        /// `isWritable` becomes true again (with `channelWritabilityChanged`) once queued bytes drop below this.
        public var low: Int
        /// `isWritable` is false once queued bytes reach this.
        public var high: Int

        /// Watermarks with `low <= high`; the defaults are 64 KiB and 256 KiB.
        public init(low: Int = 64 * 1024, high: Int = 256 * 1024) {
            precondition(low >= 0 && low <= high, "WriteWatermarks needs 0 <= low <= high")
            self.low = low
            self.high = high
        }
    }

    enum State {
        case connecting
        case open
        case closed
    }

    /// The loop that owns this channel.
    public let loop: EventLoop
    /// The peer: the connected-to address, or the accepted client's (`unix:` for an unnamed unix peer).
    public let remoteAddress: SocketAddress?

    /// Receives this channel's events; held strongly and cleared on close. Setting it starts reading.
    public var handler: (any StreamChannelHandler)? {
        didSet { if state == .open { updateInterest() } }
    }

    /// When writes make the channel unwritable and when it recovers. Changeable at any time.
    public var watermarks = WriteWatermarks()

    var fd: Int32
    let isTCP: Bool
    var state: State
    private(set) var registrationID: UInt64 = 0
    private var readingPaused = false
    private var readEOF = false
    private var outputShutdownRequested = false
    private var outputShutdown = false
    /// A write failed; the channel closes soon and further writes are dropped.
    private var writeFailed = false
    private var aboveHighWatermark = false
    private var pending = WriteQueue()
    /// The events epoll is watching for; 0 means the descriptor is not in the epoll set at all.
    private var interest: UInt32 = 0

    // Connect bookkeeping, used only while `state == .connecting`.
    var connectCompletion: ((Result<StreamChannel, NetError>) -> Void)?
    var connectTimer: TimerHandle?

    /// The local end of the socket (for a PROXY protocol header); nil once closed or if the kernel cannot say.
    /// One getsockname(2) per call.
    public var localAddress: SocketAddress? {
        guard !isClosed else { return nil }
        return try? Syscall.localAddress(fd)
    }

    /// Adopts a connected (or connecting) non-blocking socket and registers it with `loop`. Loop thread only.
    init(fd: Int32, loop: EventLoop, remoteAddress: SocketAddress?, state: State = .open) {
        self.fd = fd
        self.loop = loop
        self.remoteAddress = remoteAddress
        self.isTCP = !(remoteAddress?.isUnix ?? false)
        self.state = state
        self.registrationID = loop.register(self)
        if state == .connecting { updateInterest() }
    }

    deinit {
        if fd >= 0 { Syscall.close(fd) }
        pending.removeAll()
    }

    // MARK: Public surface

    /// Bytes written but not yet taken by the kernel.
    public var pendingWriteBytes: Int { pending.byteCount }

    /// Whether queued output is below the high watermark. A producer should stop when this turns false and wait
    /// for `channelWritabilityChanged`.
    public var isWritable: Bool { pending.byteCount < watermarks.high }

    /// Whether the channel has closed (by either side, or by failure).
    public var isClosed: Bool { state == .closed }

    /// Writes `bytes`: tries the socket at once and copies only what the kernel did not take into the queue.
    /// Writes after `shutdownOutput()` or `close()` are dropped. A write failure closes the channel shortly after
    /// (not inside this call), with the error in `channelDidClose`.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        assert(loop.inEventLoop || !loop.isRunning, "StreamChannel.write must be called on its loop thread")
        guard state == .open, !outputShutdownRequested, !writeFailed, bytes.count > 0 else { return }
        var written = 0
        if pending.isEmpty {
            do {
                if case .processed(let count) = try Syscall.send(fd, bytes) { written = count }
            } catch {
                failWrite(error)
                return
            }
        }
        guard written < bytes.count else { return }
        let wasEmpty = pending.isEmpty
        pending.append(UnsafeRawBufferPointer(rebasing: bytes[written...]))
        if pending.byteCount >= watermarks.high { aboveHighWatermark = true }
        if wasEmpty { updateInterest() }
    }

    /// Writes `bytes`; see `write(_:)` for the raw-buffer form.
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Caps the kernel's socket buffers (SO_SNDBUF, SO_RCVBUF); `nil` leaves a direction alone. Linux doubles the
    /// value for its bookkeeping and stops auto-tuning that direction. Smaller buffers mean less memory per idle
    /// connection and earlier backpressure, at some cost in throughput on long fat links.
    /// - Throws: `NetError` if the socket refuses the option (or the channel is closed).
    public func setSocketBufferSizes(send: Int? = nil, receive: Int? = nil) throws {
        guard state != .closed else {
            throw NetError(.systemCallFailed, operation: "setsockopt", reason: "the channel is closed")
        }
        if let send {
            try Syscall.setOption(
                fd, level: SOL_SOCKET, name: SO_SNDBUF, value: Int32(clamping: send), "setsockopt(SO_SNDBUF)")
        }
        if let receive {
            try Syscall.setOption(
                fd, level: SOL_SOCKET, name: SO_RCVBUF, value: Int32(clamping: receive), "setsockopt(SO_RCVBUF)")
        }
    }

    /// Stops reading: epoll stops watching for input, and the kernel's buffers fill up and push back on the peer.
    public func pauseReading() {
        guard !readingPaused else { return }
        readingPaused = true
        if state == .open { updateInterest() }
    }

    /// Resumes reading after `pauseReading()`.
    public func resumeReading() {
        guard readingPaused else { return }
        readingPaused = false
        if state == .open { updateInterest() }
    }

    /// Half-closes: sends FIN once queued bytes are flushed. Reading continues. Idempotent.
    public func shutdownOutput() {
        guard state == .open, !outputShutdownRequested else { return }
        outputShutdownRequested = true
        if pending.isEmpty { finishOutputShutdown() }
    }

    /// Closes now: queued bytes are discarded, the descriptor leaves epoll and is closed, and the handler gets
    /// `channelDidClose(error: nil)`. Idempotent.
    public func close() {
        assert(loop.inEventLoop || !loop.isRunning, "StreamChannel.close must be called on its loop thread")
        close(error: nil)
    }

    // MARK: Internals

    func close(error: NetError?) {
        guard state != .closed else { return }
        let wasConnecting = state == .connecting
        state = .closed
        if interest != 0 {
            // Deregister before close(2): a closed descriptor can linger in epoll if the socket is shared.
            try? loop.epollControl(EPOLL_CTL_DEL, fd: fd, events: 0, id: registrationID)
            interest = 0
        }
        loop.deregister(registrationID)
        Syscall.close(fd)
        fd = -1
        pending.removeAll()
        connectTimer?.cancel()
        connectTimer = nil
        if wasConnecting {
            let completion = connectCompletion
            connectCompletion = nil
            completion?(.failure(error ?? NetError(.systemCallFailed, operation: "connect", reason: "cancelled")))
            return
        }
        let handler = self.handler
        self.handler = nil
        handler?.channelDidClose(self, error: error)
    }

    private func failWrite(_ error: NetError) {
        writeFailed = true
        pending.removeAll()
        loop.runSoon { [self] in close(error: error) }
    }

    /// Brings epoll's interest in line with what the channel wants: input while a handler is set and reading is
    /// neither paused nor finished, output while bytes are queued (or a connect is in flight). A descriptor that
    /// wants nothing is removed from the epoll set, because level-triggered EPOLLHUP would otherwise be reported
    /// forever.
    func updateInterest() {
        var wanted: UInt32 = 0
        switch state {
        case .connecting:
            wanted = EPOLLOUT.rawValue
        case .open:
            if handler != nil, !readingPaused, !readEOF { wanted |= EPOLLIN.rawValue }
            if !pending.isEmpty { wanted |= EPOLLOUT.rawValue }
        case .closed:
            return
        }
        guard wanted != interest else { return }
        let operation: Int32
        if wanted == 0 {
            operation = EPOLL_CTL_DEL
        } else if interest == 0 {
            operation = EPOLL_CTL_ADD
        } else {
            operation = EPOLL_CTL_MOD
        }
        do {
            try loop.epollControl(operation, fd: fd, events: wanted, id: registrationID)
            interest = wanted
        } catch {
            loop.runSoon { [self] in close(error: error) }
        }
    }

    private func finishOutputShutdown() {
        guard !outputShutdown else { return }
        outputShutdown = true
        Syscall.shutdownOutput(fd)
        if readEOF { close(error: nil) }
    }

    private func readAvailable() {
        // Level-triggered: a few reads per wakeup keep one busy peer from starving the others.
        for _ in 0..<4 {
            guard state == .open, !readingPaused, !readEOF, let handler else { return }
            let result: IOResult<Int>
            do {
                result = try Syscall.read(fd, into: loop.scratch)
            } catch {
                close(error: error)
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                readEOF = true
                updateInterest()
                handler.channelDidReadEOF(self)
                if state == .open, outputShutdown { close(error: nil) }
                return
            case .processed(let count):
                handler.channel(self, didRead: UnsafeRawBufferPointer(rebasing: loop.scratch[..<count]))
                if count < loop.scratch.count { return }
            }
        }
    }

    private func flush() {
        while !pending.isEmpty, state == .open {
            let count = pending.fill(loop.vectors, capacity: EventLoop.vectorCapacity)
            let result: IOResult<Int>
            do {
                result = try Syscall.send(fd, vectors: loop.vectors, count: count)
            } catch {
                close(error: error)
                return
            }
            guard case .processed(let written) = result else { break }
            pending.consume(written)
        }
        guard state == .open else { return }
        if pending.isEmpty {
            updateInterest()
            if outputShutdownRequested { finishOutputShutdown() }
        }
        if aboveHighWatermark, pending.byteCount < watermarks.low, state == .open {
            aboveHighWatermark = false
            handler?.channelWritabilityChanged(self)
        }
    }
}

extension StreamChannel: Selectable {
    func handleEvents(_ events: UInt32) {
        if state == .connecting {
            finishConnect()
            return
        }
        guard state == .open else { return }
        if events & EPOLLERR.rawValue != 0 {
            let number = Syscall.pendingError(fd)
            if number != 0 {
                close(error: NetError(errno: number, operation: "socket", subject: remoteAddress?.description))
                return
            }
        }
        if events & (EPOLLIN.rawValue | EPOLLHUP.rawValue) != 0 { readAvailable() }
        if events & (EPOLLOUT.rawValue | EPOLLHUP.rawValue) != 0, state == .open, !pending.isEmpty { flush() }
        // EPOLLHUP needs no branch of its own: the read above sees EOF (or the error) and the flush sees EPIPE, and a
        // channel that wants neither has left the epoll set (see updateInterest), so HUP cannot spin.
    }

    func loopDidShutDown() {
        close(error: NetError(.loopShutDown, operation: "shutdown", reason: "the event loop stopped"))
    }
}
