internal import CShims
internal import Glibc
import Synchronization

/// One listening socket registered on one loop.
///
/// The descriptor sits behind a Mutex so `Listener.close()` can stop accepting synchronously from any thread: it
/// removes the socket from epoll and closes it under the lock, and the loop, seeing -1, ignores any event that was
/// already on its way.
final class Acceptor: Sendable {
    /// The most connections accepted per wakeup, so a flood of connects cannot starve established channels.
    static let acceptsPerWakeup = 64
    /// How long to stop accepting after EMFILE/ENFILE rather than spin on a socket we cannot drain.
    static let descriptorExhaustionPause: Duration = .milliseconds(100)

    private struct State {
        var fd: Int32
        var registrationID: UInt64 = 0
        var watching = false
    }

    let loop: EventLoop
    let address: SocketAddress
    /// For unix listeners, where accepted channels are spread over the group; `nil` keeps them on `loop`.
    let distribution: EventLoopGroup?
    let onAccept: @Sendable (StreamChannel) -> Void
    private let state: Mutex<State>

    init(
        fd: Int32, loop: EventLoop, address: SocketAddress, distribution: EventLoopGroup?,
        onAccept: @escaping @Sendable (StreamChannel) -> Void
    ) {
        self.loop = loop
        self.address = address
        self.distribution = distribution
        self.onAccept = onAccept
        self.state = Mutex(State(fd: fd))
    }

    /// Adds the socket to the loop's table and epoll set. Loop thread only.
    func register() {
        let id = loop.register(self)
        let added = state.withLock { state -> Bool in
            guard state.fd >= 0 else { return false }
            state.registrationID = id
            return watch(&state, true)
        }
        if !added { loop.deregister(id) }
    }

    /// Stops accepting and closes the socket. Thread-safe, synchronous, idempotent.
    func close() {
        let id = state.withLock { state -> UInt64? in
            guard state.fd >= 0 else { return nil }
            _ = watch(&state, false)
            Syscall.close(state.fd)
            state.fd = -1
            return state.registrationID
        }
        if let id, id != 0 {
            let loop = self.loop
            if loop.inEventLoop { loop.deregister(id) } else { loop.execute { loop.deregister(id) } }
        }
    }

    /// Adds the socket to or removes it from the epoll set. Call with the lock held.
    private func watch(_ state: inout State, _ on: Bool) -> Bool {
        guard state.watching != on, state.fd >= 0 else { return true }
        do {
            try loop.epollControl(
                on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd: state.fd, events: EPOLLIN.rawValue, id: state.registrationID)
            state.watching = on
            return true
        } catch {
            return false
        }
    }

    private enum Outcome {
        case accepted(Int32)
        case drained
        case exhausted
        case closed
    }

    private func acceptOne() -> Outcome {
        state.withLock { state in
            guard state.fd >= 0 else { return .closed }
            do throws(NetError) {
                switch try Syscall.accept(state.fd, peer: loop.peerStorage) {
                case .processed(let fd): return .accepted(fd)
                case .wouldBlock: return .drained
                }
            } catch  where error.code == .tooManyOpenFiles || error.errno == ENOBUFS || error.errno == ENOMEM {
                _ = watch(&state, false)
                return .exhausted
            } catch {
                // ECONNABORTED, EPROTO, EPERM (firewall) …: that one connection failed; keep accepting.
                return .drained
            }
        }
    }

    private func handOff(_ fd: Int32) {
        if address.isUnix {
            // Unnamed unix clients have no path; report "unix:".
            let remote = SocketAddress(.unix(path: ""))
            let target = distribution?.next() ?? loop
            let onAccept = self.onAccept
            if target === loop {
                onAccept(StreamChannel(fd: fd, loop: loop, remoteAddress: remote))
            } else {
                target.execute { onAccept(StreamChannel(fd: fd, loop: target, remoteAddress: remote)) }
            }
            return
        }
        do {
            try Syscall.setNoDelay(fd)
        } catch {
            Syscall.close(fd)
            return
        }
        let peer = loop.peerStorage.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0) }
        onAccept(StreamChannel(fd: fd, loop: loop, remoteAddress: peer))
    }
}

extension Acceptor: Selectable {
    func handleEvents(_ events: UInt32) {
        for _ in 0..<Self.acceptsPerWakeup {
            switch acceptOne() {
            case .accepted(let fd):
                handOff(fd)
            case .drained, .closed:
                return
            case .exhausted:
                loop.schedule(after: Self.descriptorExhaustionPause) { [self] in
                    state.withLock { state in _ = watch(&state, true) }
                }
                return
            }
        }
    }

    func loopDidShutDown() {
        close()
    }
}
