import Glibc
import Synchronization
import Testing

@testable import NetCore

@Suite("Stream channels")
struct StreamChannelTests {
    enum Transport: String, CaseIterable, CustomTestStringConvertible {
        case ipv4, ipv6, unix
        var testDescription: String { rawValue }
    }

    @Test("an echo server returns every byte a client sends", arguments: Transport.allCases)
    func echo(_ transport: Transport) throws {
        try withTemporaryDirectory { directory in
            try withGroup(loops: 2) { group in
                let requested: SocketAddress
                switch transport {
                case .ipv4: requested = try .parse("127.0.0.1:0")
                case .ipv6: requested = try .parse("[::1]:0")
                case .unix: requested = try .parse("unix:\(directory)/echo.sock")
                }
                let listener = try echoServer(requested, group: group)
                defer { listener.close() }
                if transport != .unix { #expect(listener.localAddress.port != 0) }
                let payload = pattern(count: 100_000)
                for _ in 0..<4 {
                    #expect(try roundTrip(payload, to: listener.localAddress, on: group.next()) == payload)
                }
            }
        }
    }

    @Test("an accepted channel knows its peer, and a connected channel knows its target")
    func remoteAddresses() throws {
        try withGroup { group in
            let peer = Mutex<SocketAddress?>(nil)
            let accepted = Signal()
            let listener = try Listener.bind(.parse("127.0.0.1:0"), group: group) { channel in
                peer.withLock { $0 = channel.remoteAddress }
                channel.handler = EchoHandler()
                accepted.fire()
            }
            defer { listener.close() }
            let channel = try connect(to: listener.localAddress, on: group.loops[0], handler: Recorder()).get()
            #expect(accepted.wait())
            #expect(peer.withLock { $0 }?.host == "127.0.0.1")
            #expect(try onLoop(group.loops[0]) { channel.remoteAddress } == listener.localAddress)
            try onLoop(group.loops[0]) { channel.close() }
        }
    }

    @Test("1 MiB through an echo server that pauses reading while its output is over the high watermark")
    func backpressure() throws {
        try withGroup { group in
            let loop = group.loops[0]
            let serverPauses = Mutex(0)
            let serverResumes = Mutex(0)
            let clientResume = Signal()
            final class BackpressureEcho: StreamChannelHandler {
                let onPause: () -> Void
                let onResume: () -> Void
                init(onPause: @escaping () -> Void, onResume: @escaping () -> Void) {
                    self.onPause = onPause
                    self.onResume = onResume
                }
                func channel(_ channel: StreamChannel, didRead bytes: UnsafeRawBufferPointer) {
                    channel.write(bytes)
                    if !channel.isWritable {
                        channel.pauseReading()
                        onPause()
                    }
                }
                func channelWritabilityChanged(_ channel: StreamChannel) {
                    #expect(channel.isWritable)
                    channel.resumeReading()
                    onResume()
                }
                func channelDidReadEOF(_ channel: StreamChannel) { channel.shutdownOutput() }
                func channelDidClose(_ channel: StreamChannel, error: NetError?) { #expect(error == nil) }
            }
            // Small kernel buffers on both ends so the kernel cannot swallow the whole MiB on loopback. (Not smaller
            // than 64 KiB: below loopback's 64 KiB MSS, TCP stalls on its persist timer.)
            let listener = try Listener.bind(.parse("127.0.0.1:0"), group: group) { channel in
                #expect(throws: Never.self) { try channel.setSocketBufferSizes(send: 65536, receive: 65536) }
                channel.watermarks = .init(low: 8 * 1024, high: 32 * 1024)
                channel.handler = BackpressureEcho(
                    onPause: {
                        serverPauses.withLock { $0 += 1 }
                        clientResume.fire()
                    },
                    onResume: { serverResumes.withLock { $0 += 1 } })
            }
            defer { listener.close() }

            let payload = pattern(count: 1 << 20)
            let recorder = Recorder()
            recorder.closeOnEOF = true
            let channel = LoopBound(try connect(to: listener.localAddress, on: loop, handler: recorder).get())
            // The client does not read at first, so the server's output backs up until it must pause.
            try onLoop(loop) {
                try channel.value.setSocketBufferSizes(send: 65536, receive: 65536)
                channel.value.pauseReading()
                channel.value.write(payload)
                #expect(!channel.value.isWritable)
                #expect(channel.value.pendingWriteBytes > 0)
                channel.value.shutdownOutput()
            }
            // Bounded: if the kernel's buffers swallow everything the server never pauses, and the check below says so.
            _ = clientResume.wait(seconds: 5)
            try onLoop(loop) { channel.value.resumeReading() }
            #expect(recorder.closed.wait())
            let received = try onLoop(loop) { recorder.received }
            #expect(received.count == payload.count)
            #expect(received == payload)
            #expect(serverPauses.withLock { $0 } >= 1)
            #expect(serverResumes.withLock { $0 } >= 1)
            #expect(try onLoop(loop) { (recorder.closeCount, recorder.closeError == nil) } == (1, true))
        }
    }

    @Test("shutdownOutput half-closes: the peer sees EOF and can still answer")
    func halfClose() throws {
        try withGroup { group in
            let server = Recorder()
            let serverChannel = Mutex<LoopBound<StreamChannel>?>(nil)
            let accepted = Signal()
            let listener = try Listener.bind(.parse("127.0.0.1:0"), group: group) { channel in
                channel.handler = server
                serverChannel.withLock { $0 = LoopBound(channel) }
                accepted.fire()
            }
            defer { listener.close() }
            let loop = group.loops[0]
            let client = Recorder()
            let channel = LoopBound(try connect(to: listener.localAddress, on: loop, handler: client).get())
            try onLoop(loop) {
                channel.value.write(Array("hello".utf8))
                channel.value.shutdownOutput()
                channel.value.write(Array("dropped".utf8))
            }
            #expect(accepted.wait())
            #expect(server.eof.wait())
            try onLoop(loop) {
                #expect(server.received == Array("hello".utf8))
                #expect(!server.closed.wait(seconds: 0))
                let answer = serverChannel.withLock { $0! }.value
                #expect(!answer.isClosed)
                answer.write(Array("bye".utf8))
                answer.shutdownOutput()
            }
            // Both sides shut their output and saw EOF: both channels close on their own, once, without error.
            #expect(client.closed.wait())
            #expect(server.closed.wait())
            try onLoop(loop) {
                #expect(client.received == Array("bye".utf8))
                #expect(client.eofCount == 1 && client.closeCount == 1 && client.closeError == nil)
                #expect(server.eofCount == 1 && server.closeCount == 1 && server.closeError == nil)
            }
        }
    }

    @Test("when the peer closes, channelDidClose arrives exactly once, however often close is called after")
    func peerClose() throws {
        try withGroup { group in
            let listener = try Listener.bind(.parse("127.0.0.1:0"), group: group) { channel in
                channel.handler = EchoHandler()
                channel.close()
            }
            defer { listener.close() }
            let loop = group.loops[0]
            let client = Recorder()
            client.closeOnEOF = true
            let channel = LoopBound(try connect(to: listener.localAddress, on: loop, handler: client).get())
            #expect(client.closed.wait())
            try onLoop(loop) {
                #expect(channel.value.isClosed)
                #expect(channel.value.handler == nil)
                channel.value.close()
                channel.value.close()
                channel.value.write([1, 2, 3])
                #expect(client.closeCount == 1)
                #expect(client.eofCount == 1)
            }
        }
    }

    @Test("a write to a peer that reset the connection closes the channel with an error, once")
    func writeAfterReset() throws {
        try withGroup { group in
            let listener = try Listener.bind(.parse("127.0.0.1:0"), group: group) { channel in
                channel.handler = EchoHandler()
                channel.close()
            }
            defer { listener.close() }
            let loop = group.loops[0]
            let client = Recorder()
            let channel = LoopBound(try connect(to: listener.localAddress, on: loop, handler: client).get())
            #expect(client.eof.wait())
            // The peer is gone: the first write draws a RST, a later one fails with EPIPE/ECONNRESET.
            var closed = false
            for _ in 0..<100 where !closed {
                try onLoop(loop) { channel.value.write(pattern(count: 1024)) }
                closed = client.closed.wait(seconds: 0.05)
            }
            #expect(closed)
            try onLoop(loop) {
                #expect(client.closeCount == 1)
                #expect(client.closeError?.code == .connectionReset)
            }
        }
    }

    @Test("closing the group closes open channels with loopShutDown")
    func shutdownClosesChannels() throws {
        let client = Recorder()
        let server = try EventLoopGroup(loopCount: 1)
        server.start()
        defer { server.shutdown() }
        let listener = try echoServer(.parse("127.0.0.1:0"), group: server)
        try withGroup { group in
            _ = try connect(to: listener.localAddress, on: group.loops[0], handler: client).get()
        }
        #expect(client.closed.wait(seconds: 0))
        #expect(client.closeCount == 1 && client.closeError?.code == .loopShutDown)
    }
}

@Suite("Connecting")
struct ConnectTests {
    @Test("connecting to a port nobody listens on fails with connectionRefused and ECONNREFUSED")
    func refused() throws {
        try withGroup { group in
            let listener = try echoServer(.parse("127.0.0.1:0"), group: group)
            let address = listener.localAddress
            listener.close()
            let result = try connect(to: address, on: group.loops[0])
            guard case .failure(let error) = result else {
                Issue.record("connected to a closed port")
                return
            }
            #expect(error.code == .connectionRefused)
            #expect(error.errno == ECONNREFUSED)
            #expect(error.operation == "connect")
            #expect(error.description.contains(address.description))
        }
    }

    @Test("connecting to a missing unix socket file fails with connectionRefused")
    func missingUnixSocket() throws {
        try withTemporaryDirectory { directory in
            try withGroup { group in
                let result = try connect(to: .parse("unix:\(directory)/none.sock"), on: group.loops[0])
                guard case .failure(let error) = result else {
                    Issue.record("connected to a missing socket")
                    return
                }
                #expect(error.code == .connectionRefused)
                #expect(error.reason.contains("no unix socket file"))
            }
        }
    }

    @Test("a connect the listener never answers times out")
    func timesOut() throws {
        // A listening socket that never accepts, with the smallest backlog: once its accept queue is full Linux
        // drops further SYNs, so the next connect stays in progress until our timeout.
        let (fd, target) = try rawListener(backlog: 0)
        defer { close(fd) }
        try withGroup { group in
            let loop = group.loops[0]
            var timedOut = false
            // The first connections fill the accept queue; a later one must hang.
            for _ in 0..<4 where !timedOut {
                if case .failure(let error) = try connect(to: target, on: loop, timeout: .milliseconds(300)) {
                    #expect(error.code == .timedOut)
                    #expect(error.reason.contains("timed out"))
                    timedOut = true
                }
            }
            #expect(timedOut)
        }
    }
}
