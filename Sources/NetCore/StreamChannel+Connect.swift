internal import Glibc

extension StreamChannel {
    /// Connects to `address` without blocking and calls `completion` on `loop` with the open channel or the
    /// failure: `.connectionRefused`, `.timedOut` after `timeout`, `.unreachable` … TCP channels get TCP_NODELAY.
    ///
    /// Call it on `loop`'s thread. The channel reads nothing until its `handler` is set, so set it in the
    /// completion. `completion` runs exactly once, possibly before `connect` returns (unix sockets and failures
    /// that the kernel reports at once).
    public static func connect(
        to address: SocketAddress, on loop: EventLoop, timeout: Duration,
        _ completion: @escaping (Result<StreamChannel, NetError>) -> Void
    ) {
        assert(loop.inEventLoop || !loop.isRunning, "StreamChannel.connect must be called on the loop's thread")
        let fd: Int32
        let started: ConnectResult
        do throws(NetError) {
            fd = try Syscall.streamSocket(family: address.family)
            do {
                started = try Syscall.connect(fd, to: address)
            } catch {
                Syscall.close(fd)
                throw error
            }
        } catch {
            completion(.failure(error))
            return
        }
        switch started {
        case .connected:
            let channel = StreamChannel(fd: fd, loop: loop, remoteAddress: address)
            if let failure = channel.configureConnected() {
                completion(.failure(failure))
            } else {
                completion(.success(channel))
            }
        case .inProgress:
            let channel = StreamChannel(fd: fd, loop: loop, remoteAddress: address, state: .connecting)
            channel.connectCompletion = completion
            channel.connectTimer = loop.schedule(after: timeout) { [weak channel] in
                channel?.connectTimer = nil
                channel?.close(
                    error: NetError(
                        .timedOut, operation: "connect",
                        reason: "connecting to \(address) timed out after \(timeout) — is the host up and the port "
                            + "not filtered?"))
            }
        }
    }

    /// Sets socket options on a freshly connected socket; returns the failure (after closing) if one fails.
    private func configureConnected() -> NetError? {
        guard isTCP else { return nil }
        do {
            try Syscall.setNoDelay(fd)
            return nil
        } catch {
            close(error: error)
            return error
        }
    }

    /// epoll reported the connecting socket writable (or failed): SO_ERROR says which.
    func finishConnect() {
        let number = Syscall.pendingError(fd)
        if number != 0 {
            close(error: NetError(errno: number, operation: "connect", subject: remoteAddress?.description))
            return
        }
        state = .open
        connectTimer?.cancel()
        connectTimer = nil
        let completion = connectCompletion
        connectCompletion = nil
        updateInterest()
        if let failure = configureConnected() {
            completion?(.failure(failure))
        } else {
            completion?(.success(self))
        }
    }
}
