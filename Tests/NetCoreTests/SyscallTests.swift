import Glibc
import Testing

@testable import NetCore

@Suite("The system call funnel")
struct SyscallTests {
    @Test("an empty non-blocking socket reads as wouldBlock, a closed descriptor as a NetError naming the call")
    func mapsErrors() throws {
        var pair: [Int32] = [0, 0]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        #expect(socketpair(AF_UNIX, type, 0, &pair) == 0)
        defer { close(pair[0]) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        defer { buffer.deallocate() }
        guard case .wouldBlock = try Syscall.read(pair[0], into: buffer) else {
            Issue.record("an empty socket did not report wouldBlock")
            return
        }
        guard case .processed(3) = try Syscall.send(pair[1], UnsafeRawBufferPointer(rebasing: buffer[..<3])) else {
            Issue.record("the three bytes were not sent")
            return
        }
        guard case .processed(3) = try Syscall.read(pair[0], into: buffer) else {
            Issue.record("the three bytes did not arrive")
            return
        }
        close(pair[1])
        guard case .processed(0) = try Syscall.read(pair[0], into: buffer) else {
            Issue.record("the peer's close did not read as EOF")
            return
        }
        #expect {
            try Syscall.read(-1, into: buffer)
        } throws: { error in
            (error as? NetError).map { $0.errno == EBADF && $0.operation == "read" } ?? false
        }
    }

    @Test("sending to a peer that is gone is a connectionReset error, never a SIGPIPE")
    func noSIGPIPE() throws {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[0]) }
        close(pair[1])
        let bytes: [UInt8] = [1, 2, 3]
        #expect {
            try bytes.withUnsafeBytes { try Syscall.send(pair[0], $0) }
        } throws: { error in
            (error as? NetError)?.code == .connectionReset
        }
        ignoreSIGPIPE()
    }

    @Test("a write the kernel takes whole queues nothing")
    func directWrite() throws {
        try withGroup { group in
            let listener = try echoServer(.parse("127.0.0.1:0"), group: group)
            defer { listener.close() }
            let recorder = Recorder()
            let channel = LoopBound(try connect(to: listener.localAddress, on: group.loops[0], handler: recorder).get())
            try onLoop(group.loops[0]) {
                channel.value.write(Array("small".utf8))
                #expect(channel.value.pendingWriteBytes == 0)
                #expect(channel.value.isWritable)
                channel.value.close()
            }
        }
    }
}
