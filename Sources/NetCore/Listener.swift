internal import Glibc

/// Accepts stream connections on an address and hands each new channel to `onAccept` on the loop that owns it.
///
/// TCP: one SO_REUSEPORT socket per loop, so the kernel spreads connections across loops and each loop accepts
/// its own. Unix: one socket, accepted on `loops[0]`, channels handed to the group's loops round robin.
///
/// Sendable: its stored properties are immutable, and the acceptors guard their descriptors with a Mutex.
public final class Listener: Sendable {
    /// The bound address, with the kernel-chosen port filled in when the requested port was 0.
    public let localAddress: SocketAddress
    private let acceptors: [Acceptor]

    private init(localAddress: SocketAddress, acceptors: [Acceptor]) {
        self.localAddress = localAddress
        self.acceptors = acceptors
    }

    /// Binds and listens on `address` and starts accepting on `group`'s loops (start the group to run them).
    ///
    /// For a unix path whose socket file exists, the file is removed only if nothing accepts connections on it (a
    /// stale file left by a crashed process); if a process is listening, or the path is not a socket, binding fails.
    /// `onAccept` runs on the channel's loop; set the channel's handler there.
    /// - Throws: `NetError` such as `.addressInUse` ("address already in use: 127.0.0.1:8443 — is another process
    ///   listening?") or `.permissionDenied`.
    public static func bind(
        _ address: SocketAddress, group: EventLoopGroup, backlog: Int32 = 1024,
        onAccept: @escaping @Sendable (StreamChannel) -> Void
    ) throws -> Listener {
        var sockets: [(fd: Int32, loop: EventLoop)] = []
        var bound = address
        do {
            if address.isUnix {
                let fd = try bindUnix(address, backlog: backlog)
                sockets.append((fd, group.loops[0]))
            } else {
                for loop in group.loops {
                    let fd = try bindReusePort(bound, backlog: backlog)
                    sockets.append((fd, loop))
                    // Port 0: every further socket must join the port the kernel chose for the first.
                    if sockets.count == 1 { bound = try Syscall.localAddress(fd) }
                }
            }
        } catch {
            for socket in sockets { Syscall.close(socket.fd) }
            throw error
        }
        let acceptors = sockets.map { socket in
            Acceptor(
                fd: socket.fd, loop: socket.loop, address: bound, distribution: address.isUnix ? group : nil,
                onAccept: onAccept)
        }
        for acceptor in acceptors {
            if acceptor.loop.inEventLoop {
                acceptor.register()
            } else {
                acceptor.loop.execute { acceptor.register() }
            }
        }
        return Listener(localAddress: bound, acceptors: acceptors)
    }

    /// Stops accepting: the listening sockets are closed before this returns (new connections are refused), and a
    /// unix socket file is removed. Channels already accepted are untouched, which is what a graceful drain needs.
    /// Thread-safe; idempotent.
    public func close() {
        for acceptor in acceptors { acceptor.close() }
        if let path = localAddress.unixPath, Syscall.isSocketFile(path) == true {
            try? Syscall.unlink(path)
        }
    }

    private static func bindReusePort(_ address: SocketAddress, backlog: Int32) throws(NetError) -> Int32 {
        let fd = try Syscall.streamSocket(family: address.family)
        do {
            try Syscall.setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1, "setsockopt(SO_REUSEADDR)")
            try Syscall.setOption(fd, level: SOL_SOCKET, name: SO_REUSEPORT, value: 1, "setsockopt(SO_REUSEPORT)")
            if address.family == AF_INET6 {
                // "[::]:port" means IPv6 only; bind 0.0.0.0 separately for IPv4.
                try Syscall.setOption(
                    fd, level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: 1, "setsockopt(IPV6_V6ONLY)")
            }
            try Syscall.bind(fd, to: address)
            try Syscall.listen(fd, backlog: backlog, address: address)
            return fd
        } catch {
            Syscall.close(fd)
            throw error
        }
    }

    private static func bindUnix(_ address: SocketAddress, backlog: Int32) throws(NetError) -> Int32 {
        let path = address.unixPath ?? ""
        switch Syscall.isSocketFile(path) {
        case nil:
            break
        case false?:
            throw NetError(
                .addressInUse, operation: "bind",
                reason: "\(address) exists and is not a socket — refusing to replace it; choose another path")
        case true?:
            if isListening(address) {
                throw NetError(
                    .addressInUse, operation: "bind",
                    reason: "address already in use: \(address) — another process is listening on it")
            }
            // A stale socket file from a process that is gone: nothing accepted our probe. If it vanished meanwhile,
            // bind below reports whatever is true now.
            try? Syscall.unlink(path)
        }
        let fd = try Syscall.streamSocket(family: AF_UNIX)
        do {
            try Syscall.bind(fd, to: address)
            try Syscall.listen(fd, backlog: backlog, address: address)
            return fd
        } catch {
            Syscall.close(fd)
            throw error
        }
    }

    /// Whether something accepts connections on the unix socket: a non-blocking connect either completes or, when
    /// the listener's backlog is full, reports EAGAIN — both mean a live listener. ECONNREFUSED means stale.
    private static func isListening(_ address: SocketAddress) -> Bool {
        guard let fd = try? Syscall.streamSocket(family: AF_UNIX) else { return true }
        defer { Syscall.close(fd) }
        do {
            _ = try Syscall.connect(fd, to: address)
            return true
        } catch {
            return error.code != .connectionRefused || error.errno == EAGAIN
        }
    }
}
