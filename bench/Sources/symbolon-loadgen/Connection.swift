import Foundation
import TLS
import X509

#if canImport(Glibc)
    import Glibc
#endif

struct LoadgenError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Monotonic nanoseconds.
@inline(__always) func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// A client TLS context (mTLS, full handshakes only: nothing here ever resumes a session).
func makeClientContext(cert: String, key: String, trustBundle: [Certificate]) throws -> TLSContext {
    let chain = try Certificate.load(file: cert)
    let privateKey = try PrivateKey(pemEncoded: String(contentsOfFile: key, encoding: .utf8))
    let configuration = TLSConfiguration.makeClientConfigurationWithMTLS(
        certificateChain: chain, privateKey: privateKey, trustBundle: trustBundle,
        expectedServerNames: [.dns("localhost")])
    return try TLSContext(configuration: configuration)
}

/// A blocking TCP connection to 127.0.0.1:`port` with TCP_NODELAY.
func connectLoopback(port: UInt16) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw LoadgenError("socket: \(errnoText())") }
    var one: Int32 = 1
    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    if result != 0 {
        let code = errno
        close(fd)
        throw LoadgenError("connect to 127.0.0.1:\(port): \(errnoText(code))")
    }
    return fd
}

final class Outbox {
    var bytes: [UInt8] = []
}

/// Per-thread receive buffer.
final class ReceiveBuffer {
    let pointer: UnsafeMutableRawBufferPointer
    init(size: Int = 256 * 1024) {
        pointer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    }
    deinit { pointer.deallocate() }
}

/// One TLS client connection driven over a blocking socket.
final class ClientConnection {
    let fd: Int32
    let tls: TLSConnection
    private let outbox: Outbox
    private let buffer: ReceiveBuffer
    private var closed = false

    init(context: TLSContext, port: UInt16, buffer: ReceiveBuffer) throws {
        fd = try connectLoopback(port: port)
        let outbox = Outbox()
        self.outbox = outbox
        self.buffer = buffer
        do {
            tls = try TLSConnection(context: context) { outbox.bytes.append(contentsOf: $0) }
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    deinit { if !closed { Glibc.close(fd) } }

    private func flush() throws {
        var offset = 0
        let count = outbox.bytes.count
        while offset < count {
            let sent = outbox.bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw LoadgenError("send: \(errnoText())")
            }
            offset += sent
        }
        outbox.bytes.removeAll(keepingCapacity: true)
    }

    /// Reads once from the socket into the TLS connection; false at end of stream.
    private func fill() throws -> Bool {
        while true {
            let received = recv(fd, buffer.pointer.baseAddress, buffer.pointer.count, 0)
            if received > 0 {
                tls.receive(UnsafeRawBufferPointer(rebasing: buffer.pointer[0..<received]))
                return true
            }
            if received == 0 {
                tls.receiveEOF()
                return false
            }
            if errno == EINTR { continue }
            throw LoadgenError("recv: \(errnoText())")
        }
    }

    func handshake() throws {
        while true {
            let status = tls.handshake()
            try flush()
            switch status {
            case .complete: return
            case .wantInput:
                if try !fill() { throw LoadgenError("the server closed the connection during the handshake") }
            case .failed(let error): throw LoadgenError("handshake failed: \(error)")
            }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try tls.write(bytes)
        try flush()
    }

    /// Reads plaintext until `count` bytes arrived or the stream ended; returns how many arrived.
    @discardableResult
    func read(atLeast count: Int, into sink: ((UnsafeRawBufferPointer) -> Void)? = nil) throws -> Int {
        var got = 0
        while got < count {
            let status = tls.read { bytes in
                got += bytes.count
                sink?(bytes)
            }
            switch status {
            case .data: continue
            case .wantInput:
                if try !fill() { return got }
            case .closed: return got
            case .failed(let error):
                if error.code == .prematureClose { return got }
                throw LoadgenError("read failed: \(error)")
            }
        }
        return got
    }

    /// Non-blocking read for the HTTP mode (the socket stays blocking for sends): one recv with MSG_DONTWAIT, then
    /// every decrypted byte to `sink`. Returns false when the stream ended (EOF or close_notify).
    func pump(_ sink: (UnsafeRawBufferPointer) -> Void) throws -> Bool {
        var ended = false
        while true {
            let received = recv(fd, buffer.pointer.baseAddress, buffer.pointer.count, Int32(MSG_DONTWAIT))
            if received > 0 {
                tls.receive(UnsafeRawBufferPointer(rebasing: buffer.pointer[0..<received]))
                break
            }
            if received == 0 {
                tls.receiveEOF()
                ended = true
                break
            }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { break }
            throw LoadgenError("recv: \(errnoText())")
        }
        while true {
            switch tls.read(sink) {
            case .data: continue
            case .wantInput: return !ended
            case .closed: return false
            case .failed(let error):
                if error.code == .prematureClose { return false }
                throw LoadgenError("read failed: \(error)")
            }
        }
    }

    /// close_notify, then close the socket.
    func close() {
        guard !closed else { return }
        tls.close()
        try? flush()
        Glibc.close(fd)
        closed = true
    }

    /// close_notify, half-close, then wait (bounded, 5 s) for the server to close its side: every counted
    /// connection ends in an orderly close on both ends.
    func closeAndDrain() {
        guard !closed else { return }
        tls.close()
        try? flush()
        shutdown(fd, Int32(SHUT_WR))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        while recv(fd, buffer.pointer.baseAddress, buffer.pointer.count, 0) > 0 {}
        Glibc.close(fd)
        closed = true
    }

    /// Hands the socket over (the TLS state is dropped, the TCP connection stays open).
    func detachSocket() -> Int32 {
        closed = true
        return fd
    }
}
