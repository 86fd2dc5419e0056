import Dispatch
import Foundation
import NetCore
import Synchronization
import Testing

/// How long any test waits for something that should happen promptly. Generous, because the machine is shared;
/// only ever an upper bound for a hang, never an assertion about speed.
let patience: Double = 20

/// Carries a value that is confined to one loop across the `@Sendable` boundary of `execute`.
struct LoopBound<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A one-shot or counting signal from a loop to the test thread, with a bounded wait.
final class Signal: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func fire() { semaphore.signal() }
    /// Waits for one `fire()`; false if `patience` passed first.
    func wait(seconds: Double = patience) -> Bool { semaphore.wait(timeout: .now() + seconds) == .success }
}

/// Runs `body` on `loop` and waits for its result.
func onLoop<T>(_ loop: EventLoop, _ body: @escaping () throws -> T) throws -> T {
    let work = LoopBound(body)
    let slot = Mutex<LoopBound<Result<T, any Error>>?>(nil)
    let done = Signal()
    loop.execute {
        let result = Result { try work.value() }
        slot.withLock { $0 = LoopBound(result) }
        done.fire()
    }
    guard done.wait() else { throw TestFailure("the loop did not run the work") }
    return try slot.withLock { $0! }.value.get()
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Starts a group of `loops` loops, runs `body`, and always shuts the group down.
func withGroup<T>(loops: Int = 1, _ body: (EventLoopGroup) throws -> T) throws -> T {
    let group = try EventLoopGroup(loopCount: loops)
    group.start()
    defer { group.shutdown() }
    return try body(group)
}

/// A fresh temporary directory for unix socket files, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("netcore-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Echoes every byte back and half-closes when the peer does.
final class EchoHandler: StreamChannelHandler {
    func channel(_ channel: StreamChannel, didRead bytes: UnsafeRawBufferPointer) { channel.write(bytes) }
    func channelDidReadEOF(_ channel: StreamChannel) { channel.shutdownOutput() }
    func channelDidClose(_ channel: StreamChannel, error: NetError?) {}
}

/// A handler that records everything that happens to its channel. Fields are written on the loop and read by the
/// test only after a signal, which orders the accesses.
final class Recorder: StreamChannelHandler, @unchecked Sendable {
    var received: [UInt8] = []
    var eofCount = 0
    var closeCount = 0
    var closeError: NetError?
    var writabilityChanges = 0
    /// Close the channel when the peer half-closes (otherwise just record it).
    var closeOnEOF = false

    let eof = Signal()
    let closed = Signal()

    func channel(_ channel: StreamChannel, didRead bytes: UnsafeRawBufferPointer) { received.append(contentsOf: bytes) }
    func channelWritabilityChanged(_ channel: StreamChannel) { writabilityChanges += 1 }
    func channelDidReadEOF(_ channel: StreamChannel) {
        eofCount += 1
        eof.fire()
        if closeOnEOF { channel.close() }
    }
    func channelDidClose(_ channel: StreamChannel, error: NetError?) {
        closeCount += 1
        closeError = error
        closed.fire()
    }
}

/// Starts an echo server on `address` over `group`.
func echoServer(_ address: SocketAddress, group: EventLoopGroup) throws -> Listener {
    try Listener.bind(address, group: group) { channel in channel.handler = EchoHandler() }
}

/// Connects on `loop` and waits for the outcome.
func connect(
    to address: SocketAddress, on loop: EventLoop, timeout: Duration = .seconds(10),
    handler: (any StreamChannelHandler)? = nil
) throws -> Result<StreamChannel, NetError> {
    let slot = Mutex<LoopBound<Result<StreamChannel, NetError>>?>(nil)
    let done = Signal()
    let handler = LoopBound(handler)
    loop.execute {
        StreamChannel.connect(to: address, on: loop, timeout: timeout) { result in
            if case .success(let channel) = result { channel.handler = handler.value }
            slot.withLock { $0 = LoopBound(result) }
            done.fire()
        }
    }
    guard done.wait() else { throw TestFailure("connect did not complete") }
    return slot.withLock { $0! }.value
}

/// Sends `payload` to an echo server at `address`, half-closes, and returns what came back before the server
/// half-closed in turn.
func roundTrip(_ payload: [UInt8], to address: SocketAddress, on loop: EventLoop) throws -> [UInt8] {
    let recorder = Recorder()
    recorder.closeOnEOF = true
    let channel = try connect(to: address, on: loop, handler: recorder).get()
    let bound = LoopBound(channel)
    loop.execute {
        bound.value.write(payload)
        bound.value.shutdownOutput()
    }
    guard recorder.closed.wait() else { throw TestFailure("the echo did not finish") }
    return try onLoop(loop) { recorder.received }
}

/// A deterministic, non-repeating-looking byte pattern.
func pattern(count: Int) -> [UInt8] {
    var state: UInt32 = 2_463_534_242
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return UInt8(truncatingIfNeeded: state)
    }
}

/// A plain listening TCP socket on 127.0.0.1 (no SO_REUSEPORT, never accepting): what a foreign process holding a
/// port, or a peer that never answers, looks like. The caller closes the descriptor.
func rawListener(backlog: Int32) throws -> (fd: Int32, address: SocketAddress) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ready = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            bind(fd, raw, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, raw, &length) == 0
        }
    }
    guard fd >= 0, ready else {
        if fd >= 0 { close(fd) }
        throw TestFailure("cannot set up a raw listening socket")
    }
    return (fd, try SocketAddress.parse("127.0.0.1:\(UInt16(bigEndian: address.sin_port))"))
}
