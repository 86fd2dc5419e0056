import Foundation
import Glibc
import Synchronization
import Testing

@testable import NetCore

@Suite("Listeners")
struct ListenerTests {
    @Test("with SO_REUSEPORT every loop accepts connections on the same port")
    func reusePortSpreadsAccepts() throws {
        try withGroup(loops: 4) { group in
            let acceptedOn = Mutex<[ObjectIdentifier: Int]>([:])
            let listener = try Listener.bind(.parse("127.0.0.1:0"), group: group) { channel in
                #expect(channel.loop.inEventLoop)
                acceptedOn.withLock { $0[ObjectIdentifier(channel.loop), default: 0] += 1 }
                channel.handler = EchoHandler()
            }
            defer { listener.close() }
            let payload = Array("ping".utf8)
            for index in 0..<48 {
                #expect(try roundTrip(payload, to: listener.localAddress, on: group.loops[index % 4]) == payload)
            }
            let counts = acceptedOn.withLock { $0 }
            #expect(counts.values.reduce(0, +) == 48)
            // The kernel hashes connections over the four sockets; 48 landing on one loop would mean no spreading.
            #expect(counts.count > 1)
        }
    }

    @Test("unix connections are accepted on loop 0 and spread over the loops round robin")
    func unixRoundRobin() throws {
        try withTemporaryDirectory { directory in
            try withGroup(loops: 3) { group in
                let acceptedOn = Mutex<[ObjectIdentifier: Int]>([:])
                let listener = try Listener.bind(.parse("unix:\(directory)/rr.sock"), group: group) { channel in
                    #expect(channel.loop.inEventLoop)
                    #expect(channel.remoteAddress?.description == "unix:")
                    acceptedOn.withLock { $0[ObjectIdentifier(channel.loop), default: 0] += 1 }
                    channel.handler = EchoHandler()
                }
                defer { listener.close() }
                for _ in 0..<9 {
                    #expect(try roundTrip([7], to: listener.localAddress, on: group.loops[1]) == [7])
                }
                #expect(acceptedOn.withLock { $0 }.values.sorted() == [3, 3, 3])
            }
        }
    }

    @Test("after Listener.close new connections are refused while established ones keep working")
    func closeStopsAccepting() throws {
        try withGroup(loops: 2) { group in
            let listener = try echoServer(.parse("127.0.0.1:0"), group: group)
            let loop = group.loops[0]
            let recorder = Recorder()
            let channel = LoopBound(try connect(to: listener.localAddress, on: loop, handler: recorder).get())
            // A round trip first: the connection must have been accepted (not still in the backlog, which closing
            // the listening socket resets) before the listener goes away.
            try onLoop(loop) { channel.value.write(Array("ping".utf8)) }
            var echoed = false
            for _ in 0..<1000 where !echoed {
                echoed = try onLoop(loop) { recorder.received.count == 4 }
                if !echoed { usleep(10_000) }
            }
            #expect(echoed, "the echo server never answered")
            listener.close()
            listener.close()
            guard case .failure(let error) = try connect(to: listener.localAddress, on: loop) else {
                Issue.record("a closed listener accepted a connection")
                return
            }
            #expect(error.code == .connectionRefused)
            try onLoop(loop) {
                channel.value.write(Array("still here".utf8))
                channel.value.shutdownOutput()
            }
            #expect(recorder.eof.wait())
            #expect(try onLoop(loop) { recorder.received } == Array("pingstill here".utf8))
        }
    }

    @Test("binding a TCP port in use fails with addressInUse and says what to check")
    func portInUse() throws {
        try withGroup { group in
            let first = try echoServer(.parse("127.0.0.1:0"), group: group)
            defer { first.close() }
            // SO_REUSEPORT lets only sockets of the same user share a port, and ours all set it; a plain socket
            // without the option is what a foreign process looks like.
            let (fd, taken) = try rawListener(backlog: 1)
            defer { close(fd) }
            #expect {
                try echoServer(taken, group: group)
            } throws: { error in
                guard let error = error as? NetError else { return false }
                return error.code == .addressInUse && error.errno == EADDRINUSE
                    && error.reason == "address already in use: \(taken) — is another process listening?"
            }
        }
    }

    @Test("a stale unix socket file is replaced; a live one is refused; a regular file is left alone")
    func staleUnixSocket() throws {
        try withTemporaryDirectory { directory in
            try withGroup { group in
                let path = "\(directory)/proxy.sock"
                // A socket file whose process is gone: bound, then closed without unlinking.
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_un()
                address.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &address.sun_path) { bytes in
                    for (index, byte) in path.utf8.enumerated() { bytes[index] = byte }
                }
                let bound = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                }
                #expect(bound == 0)
                close(fd)
                #expect(FileManager.default.fileExists(atPath: path))

                let listener = try echoServer(.parse("unix:\(path)"), group: group)
                #expect(try roundTrip([1, 2, 3], to: listener.localAddress, on: group.loops[0]) == [1, 2, 3])

                #expect {
                    try echoServer(.parse("unix:\(path)"), group: group)
                } throws: { error in
                    guard let error = error as? NetError else { return false }
                    return error.code == .addressInUse && error.reason.contains("another process is listening")
                }
                // The refused bind left the live listener working.
                #expect(try roundTrip([4], to: listener.localAddress, on: group.loops[0]) == [4])
                listener.close()
                #expect(!FileManager.default.fileExists(atPath: path))

                let regular = "\(directory)/not-a-socket"
                _ = FileManager.default.createFile(atPath: regular, contents: Data("keep".utf8))
                #expect(throws: NetError.self) { try echoServer(.parse("unix:\(regular)"), group: group) }
                #expect(FileManager.default.contents(atPath: regular) == Data("keep".utf8))
            }
        }
    }
}
