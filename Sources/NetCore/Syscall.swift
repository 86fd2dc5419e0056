internal import CShims
internal import Glibc

/// The outcome of a non-blocking call: it did something, or the kernel had nothing for us yet.
enum IOResult<Value> {
    case processed(Value)
    /// EAGAIN / EWOULDBLOCK: try again when epoll says the descriptor is ready.
    case wouldBlock
}

/// The outcome of a non-blocking `connect(2)`.
enum ConnectResult {
    case connected
    /// EINPROGRESS: wait for writability, then read SO_ERROR.
    case inProgress
}

/// The one funnel every system call in NetCore goes through.
///
/// It retries EINTR, turns EAGAIN/EWOULDBLOCK into `.wouldBlock`, and every other failure into a `NetError` that
/// names the operation. Nothing else in the module calls Glibc's socket functions directly.
enum Syscall {
    /// Runs `body` until it does not fail with EINTR. A result of -1 is a failure described by `errno`.
    @inline(__always)
    static func retrying<T: FixedWidthInteger>(
        _ operation: String, subject: @autoclosure () -> String? = nil, _ body: () -> T
    ) throws(NetError) -> IOResult<T> {
        while true {
            let result = body()
            if result != -1 { return .processed(result) }
            let number = errno
            switch number {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw NetError(errno: number, operation: operation, subject: subject())
            }
        }
    }

    /// Like `retrying`, for calls that never legitimately return EAGAIN.
    @inline(__always)
    static func blocking<T: FixedWidthInteger>(
        _ operation: String, subject: @autoclosure () -> String? = nil, _ body: () -> T
    ) throws(NetError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            let number = errno
            if number == EINTR { continue }
            throw NetError(errno: number, operation: operation, subject: subject())
        }
    }

    // MARK: Sockets

    /// A non-blocking, close-on-exec stream socket for `family`.
    static func streamSocket(family: Int32) throws(NetError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        return try blocking("socket") { Glibc.socket(family, type, 0) }
    }

    static func setOption(_ fd: Int32, level: Int32, name: Int32, value: Int32, _ operation: String) throws(NetError) {
        var value = value
        _ = try blocking(operation) {
            setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Disables Nagle's algorithm: a proxy forwards what it has at once.
    static func setNoDelay(_ fd: Int32) throws(NetError) {
        try setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1, "setsockopt(TCP_NODELAY)")
    }

    static func bind(_ fd: Int32, to address: SocketAddress) throws(NetError) {
        _ = try blocking("bind", subject: address.description) {
            address.withSockAddr { Glibc.bind(fd, $0, $1) }
        }
    }

    static func listen(_ fd: Int32, backlog: Int32, address: SocketAddress) throws(NetError) {
        _ = try blocking("listen", subject: address.description) { Glibc.listen(fd, backlog) }
    }

    /// Accepts one connection as a non-blocking, close-on-exec socket; the peer's address goes to `peer`.
    static func accept(_ fd: Int32, peer: UnsafeMutablePointer<sockaddr_storage>) throws(NetError) -> IOResult<Int32> {
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        return try retrying("accept") {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            return peer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                symbolon_accept4(fd, $0, &length, flags)
            }
        }
    }

    /// Starts a non-blocking connect. EAGAIN (a unix listener's full backlog) is reported as an error.
    static func connect(_ fd: Int32, to address: SocketAddress) throws(NetError) -> ConnectResult {
        while true {
            let result = address.withSockAddr { Glibc.connect(fd, $0, $1) }
            if result == 0 { return .connected }
            let number = errno
            switch number {
            case EINTR: continue
            case EINPROGRESS: return .inProgress
            case EAGAIN:
                throw NetError(
                    .connectionRefused, operation: "connect",
                    reason: "the listener's backlog is full: \(address) — the server is not accepting fast enough",
                    errno: number)
            default: throw NetError(errno: number, operation: "connect", subject: address.description)
            }
        }
    }

    /// The pending error of a socket (SO_ERROR), 0 when there is none; reading it clears it.
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) != 0 { return errno }
        return value
    }

    static func localAddress(_ fd: Int32) throws(NetError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try blocking("getsockname") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
        }
        let address = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0, length: length) }
        }
        guard let address else {
            throw NetError(.systemCallFailed, operation: "getsockname", reason: "unknown address family")
        }
        return address
    }

    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(NetError) -> IOResult<Int> {
        try retrying("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// Sends without ever raising SIGPIPE.
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(NetError) -> IOResult<Int> {
        try retrying("send") { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Gathers `count` buffers into one send, without ever raising SIGPIPE.
    static func send(_ fd: Int32, vectors: UnsafeMutablePointer<iovec>, count: Int) throws(NetError) -> IOResult<Int> {
        var message = msghdr()
        message.msg_iov = vectors
        message.msg_iovlen = count
        return try retrying("sendmsg") { sendmsg(fd, &message, Int32(MSG_NOSIGNAL)) }
    }

    /// Half-closes the write side. ENOTCONN (the peer already went away) is not an error worth reporting.
    static func shutdownOutput(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes a descriptor. Never retried: on Linux the descriptor is gone even when close reports EINTR.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    // MARK: Files

    /// Whether `path` exists and is a socket; `nil` when it does not exist.
    static func isSocketFile(_ path: String) -> Bool? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (info.st_mode & S_IFMT) == S_IFSOCK
    }

    static func unlink(_ path: String) throws(NetError) {
        _ = try blocking("unlink", subject: path) { Glibc.unlink(path) }
    }

    // MARK: epoll and eventfd

    static func epollCreate() throws(NetError) -> Int32 {
        try blocking("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    static func epollControl(_ epoll: Int32, _ operation: Int32, fd: Int32, events: UInt32, id: UInt64)
        throws(NetError)
    {
        var event = epoll_event()
        event.events = events
        event.data.u64 = id
        _ = try blocking("epoll_ctl") { epoll_ctl(epoll, operation, fd, &event) }
    }

    /// Waits for events; an interrupted wait returns 0 events so the caller re-checks its timers.
    static func epollWait(_ epoll: Int32, _ events: UnsafeMutablePointer<epoll_event>, capacity: Int32, timeout: Int32)
        throws(NetError) -> Int
    {
        let count = epoll_wait(epoll, events, capacity, timeout)
        if count >= 0 { return Int(count) }
        let number = errno
        if number == EINTR { return 0 }
        throw NetError(errno: number, operation: "epoll_wait")
    }

    static func eventCreate() throws(NetError) -> Int32 {
        try blocking("eventfd") { eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC)) }
    }

    /// Adds one to an eventfd counter; a full counter (EAGAIN) already means "wake up".
    static func eventSignal(_ fd: Int32) {
        var one: UInt64 = 1
        _ = try? retrying("write(eventfd)") { Glibc.write(fd, &one, 8) }
    }

    /// Resets an eventfd counter.
    static func eventDrain(_ fd: Int32) {
        var value: UInt64 = 0
        _ = try? retrying("read(eventfd)") { Glibc.read(fd, &value, 8) }
    }

    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}
