// symbolon-loadgen: a small mTLS load generator for bench/proxy.sh (Symbolon's proxy vs nginx).
//
// Every connection is a new TCP connection with a full TLS 1.3 handshake (the client never offers a session to
// resume), driven by the repository's own TLS module (GnuTLS) over blocking sockets, one connection at a time per
// worker thread. The backend protocol (bench/backend.py): the first byte of a connection selects the mode:
// 'S' + 8-byte big-endian length: the backend sends that many bytes; anything else: the backend echoes every byte.
//
// Commands (each prints one `RESULT key=value …` line on stdout):
//   handshakes --port P --ca ROOT (--cert F --key F | --cert-dir D --cert-count M) --count N [--threads T]
//              [--payload BYTES] [--offset I]
//       N connections: connect, handshake, optionally one echo of BYTES, close_notify, wait for the server to close.
//       With --cert-dir, connection i uses D/((I+i) mod M).pem and D/((I+i) mod M)-key.pem.
//   latency --port P --ca ROOT --cert F --key F --mode keepalive|new --rate R --seconds S [--size 64] [--threads T]
//       Requests at a fixed schedule (R per second); each echoes --size bytes. keepalive: one kept-alive connection
//       per thread; new: connect + full handshake + echo per request, then close (the latency runs from connect()
//       to the echo's last byte; the close that follows is not in it).
//   bulk --port P --ca ROOT --cert F --key F [--bytes N]
//       One connection; the backend sends N bytes (default 100 MiB) through the proxy; reports MiB/s.
//   plain-bulk --port P [--bytes N]
//       The same without TLS, straight to the backend: shows what backend + client can do without the proxy.
//   hold --port P --ca ROOT --cert F --key F --count K [--threads T]
//       Opens K connections, completes each handshake, keeps the sockets open and idle, prints
//       `HOLDING ok=… failed=…`, then waits to be killed.
//   http, http-get: small HTTP/1.1 requests on kept-alive connections, for bench/http.sh (see HTTPLoad.swift).
import Dispatch
import Foundation
import TLS
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// One line on stdout, written at once (unbuffered: the script waits for these lines).
func emit(_ parts: String...) { FileHandle.standardOutput.write(Data((parts.joined(separator: " ") + "\n").utf8)) }

signal(SIGPIPE, SIG_IGN)

final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// Runs `body(index)` on `count` new threads and waits for all of them.
func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    group.wait()
}

func percentileMs(_ sorted: [UInt64], _ q: Double) -> String {
    guard !sorted.isEmpty else { return "nan" }
    let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
    return String(format: "%.3f", Double(sorted[min(max(rank, 0), sorted.count - 1)]) / 1e6)
}

func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

func sleep(until deadline: UInt64) {
    while true {
        let now = nanoseconds()
        if now >= deadline { return }
        let remaining = deadline - now
        var spec = timespec(tv_sec: Int(remaining / 1_000_000_000), tv_nsec: Int(remaining % 1_000_000_000))
        nanosleep(&spec, nil)
    }
}

// MARK: Options

struct Options {
    var values: [String: String] = [:]
    let command: String

    init(_ arguments: [String]) throws {
        guard let first = arguments.first else {
            throw LoadgenError("usage: symbolon-loadgen COMMAND --option value …")
        }
        command = first
        var index = 1
        while index < arguments.count {
            let key = arguments[index]
            guard key.hasPrefix("--"), index + 1 < arguments.count else { throw LoadgenError("bad option \(key)") }
            values[String(key.dropFirst(2))] = arguments[index + 1]
            index += 2
        }
    }

    func string(_ key: String) throws -> String {
        guard let value = values[key] else { throw LoadgenError("--\(key) is required for \(command)") }
        return value
    }
    func int(_ key: String, _ fallback: Int? = nil) throws -> Int {
        guard let text = values[key] else {
            if let fallback { return fallback }
            throw LoadgenError("--\(key) is required for \(command)")
        }
        guard let value = Int(text) else { throw LoadgenError("--\(key) takes an integer, not \(text)") }
        return value
    }
    func double(_ key: String, _ fallback: Double) throws -> Double {
        guard let text = values[key] else { return fallback }
        guard let value = Double(text) else { throw LoadgenError("--\(key) takes a number, not \(text)") }
        return value
    }
    var port: UInt16 {
        get throws {
            guard let port = UInt16(try string("port")) else { throw LoadgenError("--port takes a port number") }
            return port
        }
    }

    /// The client identities: one (--cert/--key) or a directory of numbered ones. With a directory, only the
    /// identities a run of `uses` connections starting at `offset` needs are loaded, in the order they are used.
    func contexts(uses: Int = .max, offset: Int = 0) throws -> [TLSContext] {
        let bundle = try Certificate.load(file: try string("ca"))
        if let directory = values["cert-dir"] {
            let available = try int("cert-count")
            var contexts: [TLSContext] = []
            contexts.reserveCapacity(min(uses, available))
            for use in 0..<min(uses, available) {
                let index = (offset + use) % available
                contexts.append(
                    try makeClientContext(
                        cert: "\(directory)/\(index).pem", key: "\(directory)/\(index)-key.pem", trustBundle: bundle))
            }
            return contexts
        }
        return [try makeClientContext(cert: try string("cert"), key: try string("key"), trustBundle: bundle)]
    }
}

/// An echo request: `size` bytes, the first one 'E'.
func echoPayload(_ size: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: max(size, 1))
    bytes[0] = UInt8(ascii: "E")
    return bytes
}

func echo(_ connection: ClientConnection, _ payload: [UInt8]) throws {
    try payload.withUnsafeBytes { try connection.write($0) }
    let got = try connection.read(atLeast: payload.count)
    if got != payload.count { throw LoadgenError("echo: got \(got) of \(payload.count) bytes back") }
}

// MARK: Commands

func handshakes(_ options: Options) throws {
    let port = try options.port
    let count = try options.int("count")
    let threads = try options.int("threads", 4)
    let payloadSize = try options.int("payload", 0)
    let offset = try options.int("offset", 0)
    let contexts = try options.contexts(uses: count, offset: offset)
    FileHandle.standardError.write(Data("loaded \(contexts.count) client identities; starting\n".utf8))
    let next = Locked(0)
    let failures = Locked<(count: Int, first: String?)>((0, nil))
    let latencies = Locked<[UInt64]>([])
    let cpu0 = processCPUSeconds()
    let start = nanoseconds()
    runThreads(threads) { _ in
        let buffer = ReceiveBuffer()
        let payload = payloadSize > 0 ? echoPayload(payloadSize) : []
        var mine: [UInt64] = []
        while true {
            let index = next.withLock { value -> Int in
                defer { value += 1 }
                return value
            }
            if index >= count { break }
            let context = contexts[index % contexts.count]
            let began = nanoseconds()
            do {
                let connection = try ClientConnection(context: context, port: port, buffer: buffer)
                try connection.handshake()
                if !payload.isEmpty { try echo(connection, payload) }
                mine.append(nanoseconds() - began)
                connection.closeAndDrain()
            } catch {
                failures.withLock { state in
                    state.count += 1
                    if state.first == nil { state.first = "\(error)" }
                }
            }
        }
        latencies.withLock { $0.append(contentsOf: mine) }
    }
    let seconds = Double(nanoseconds() - start) / 1e9
    let sorted = latencies.withLock { $0.sorted() }
    let failed = failures.withLock { $0 }
    if let first = failed.first { FileHandle.standardError.write(Data("first failure: \(first)\n".utf8)) }
    emit(
        "RESULT mode=handshakes count=\(count) ok=\(sorted.count) failed=\(failed.count) identities=\(contexts.count)",
        "threads=\(threads) payload=\(payloadSize) seconds=\(String(format: "%.3f", seconds))",
        "rate=\(String(format: "%.1f", Double(sorted.count) / seconds)) p50_ms=\(percentileMs(sorted, 0.5))",
        "p99_ms=\(percentileMs(sorted, 0.99)) client_cpu_s=\(String(format: "%.2f", processCPUSeconds() - cpu0))")
    if failed.count > 0 { exit(1) }
}

func latency(_ options: Options) throws {
    let port = try options.port
    let context = try options.contexts()[0]
    let mode = try options.string("mode")
    guard mode == "keepalive" || mode == "new" else { throw LoadgenError("--mode is keepalive or new") }
    let rate = try options.double("rate", 200)
    let seconds = try options.double("seconds", 10)
    let size = try options.int("size", 64)
    let threads = try options.int("threads", 4)
    let total = Int(rate * seconds)
    let interval = 1e9 / rate
    let results = Locked<(latencies: [UInt64], late: Int, failed: Int, first: String?)>(([], 0, 0, nil))
    let origin = nanoseconds() + 1_000_000_000  // keep-alive connections are set up in this second
    runThreads(threads) { thread in
        let buffer = ReceiveBuffer()
        let payload = echoPayload(size)
        var mine: [UInt64] = []
        var late = 0
        var failed = 0
        var first: String?
        var kept: ClientConnection?
        if mode == "keepalive" {
            do {
                let connection = try ClientConnection(context: context, port: port, buffer: buffer)
                try connection.handshake()
                try echo(connection, payload)  // warm the path to the backend
                kept = connection
            } catch {
                results.withLock { state in
                    state.failed += total / threads
                    if state.first == nil { state.first = "\(error)" }
                }
                return
            }
        }
        for request in stride(from: thread, to: total, by: threads) {
            let scheduled = origin + UInt64(Double(request) * interval)
            sleep(until: scheduled)
            let began = nanoseconds()
            if began > scheduled + 1_000_000 { late += 1 }
            do {
                if let kept {
                    try echo(kept, payload)
                } else {
                    let connection = try ClientConnection(context: context, port: port, buffer: buffer)
                    try connection.handshake()
                    try echo(connection, payload)
                    mine.append(nanoseconds() - began)  // the response is in: closing is not part of the latency
                    connection.closeAndDrain()
                    continue
                }
                mine.append(nanoseconds() - began)
            } catch {
                failed += 1
                if first == nil { first = "\(error)" }
                if kept != nil { break }
            }
        }
        kept?.closeAndDrain()
        results.withLock { state in
            state.latencies.append(contentsOf: mine)
            state.late += late
            state.failed += failed
            if state.first == nil { state.first = first }
        }
    }
    let state = results.withLock { $0 }
    let sorted = state.latencies.sorted()
    if let first = state.first { FileHandle.standardError.write(Data("first failure: \(first)\n".utf8)) }
    emit(
        "RESULT mode=latency-\(mode) rate=\(rate) seconds=\(seconds) size=\(size) ok=\(sorted.count)",
        "failed=\(state.failed) late=\(state.late) p50_ms=\(percentileMs(sorted, 0.5))",
        "p90_ms=\(percentileMs(sorted, 0.9)) p99_ms=\(percentileMs(sorted, 0.99))",
        "max_ms=\(percentileMs(sorted, 1.0))")
    if state.failed > 0 { exit(1) }
}

func sourceRequest(_ bytes: Int) -> [UInt8] {
    var request: [UInt8] = [UInt8(ascii: "S")]
    withUnsafeBytes(of: UInt64(bytes).bigEndian) { request.append(contentsOf: $0) }
    return request
}

func bulk(_ options: Options) throws {
    let port = try options.port
    let context = try options.contexts()[0]
    let bytes = try options.int("bytes", 100 << 20)
    let buffer = ReceiveBuffer(size: 1 << 20)
    let connection = try ClientConnection(context: context, port: port, buffer: buffer)
    try connection.handshake()
    let cpu0 = processCPUSeconds()
    let start = nanoseconds()
    try sourceRequest(bytes).withUnsafeBytes { try connection.write($0) }
    let got = try connection.read(atLeast: bytes)
    let seconds = Double(nanoseconds() - start) / 1e9
    let cpu = processCPUSeconds() - cpu0
    connection.closeAndDrain()
    guard got == bytes else { throw LoadgenError("bulk: received \(got) of \(bytes) bytes") }
    emit(
        "RESULT mode=bulk bytes=\(bytes) seconds=\(String(format: "%.4f", seconds))",
        "mib_per_s=\(String(format: "%.1f", Double(bytes) / 1_048_576 / seconds))",
        "client_cpu_s=\(String(format: "%.3f", cpu))")
}

func plainBulk(_ options: Options) throws {
    let port = try options.port
    let bytes = try options.int("bytes", 100 << 20)
    let fd = try connectLoopback(port: port)
    defer { close(fd) }
    let start = nanoseconds()
    let request = sourceRequest(bytes)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    let buffer = ReceiveBuffer(size: 1 << 20)
    var got = 0
    while got < bytes {
        let received = recv(fd, buffer.pointer.baseAddress, buffer.pointer.count, 0)
        if received <= 0 { break }
        got += received
    }
    let seconds = Double(nanoseconds() - start) / 1e9
    guard got == bytes else { throw LoadgenError("plain-bulk: received \(got) of \(bytes) bytes") }
    emit(
        "RESULT mode=plain-bulk bytes=\(bytes) seconds=\(String(format: "%.4f", seconds))",
        "mib_per_s=\(String(format: "%.1f", Double(bytes) / 1_048_576 / seconds))")
}

func hold(_ options: Options) throws {
    let port = try options.port
    let context = try options.contexts()[0]
    let count = try options.int("count")
    let threads = try options.int("threads", 4)
    let next = Locked(0)
    let state = Locked<(fds: [Int32], failed: Int, first: String?)>(([], 0, nil))
    let start = nanoseconds()
    runThreads(threads) { _ in
        let buffer = ReceiveBuffer(size: 64 * 1024)
        while true {
            let index = next.withLock { value -> Int in
                defer { value += 1 }
                return value
            }
            if index >= count { break }
            do {
                let connection = try ClientConnection(context: context, port: port, buffer: buffer)
                try connection.handshake()
                let fd = connection.detachSocket()
                state.withLock { $0.fds.append(fd) }
            } catch {
                state.withLock {
                    $0.failed += 1
                    if $0.first == nil { $0.first = "\(error)" }
                }
            }
        }
    }
    let result = state.withLock { $0 }
    if let first = result.first { FileHandle.standardError.write(Data("first failure: \(first)\n".utf8)) }
    emit(
        "HOLDING ok=\(result.fds.count) failed=\(result.failed)",
        "seconds=\(String(format: "%.2f", Double(nanoseconds() - start) / 1e9))")
    while true { pause() }
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    switch options.command {
    case "handshakes": try handshakes(options)
    case "latency": try latency(options)
    case "bulk": try bulk(options)
    case "plain-bulk": try plainBulk(options)
    case "hold": try hold(options)
    case "http": try httpLoad(options)
    case "http-get": try httpGet(options)
    default:
        throw LoadgenError(
            "unknown command \(options.command) (handshakes, latency, bulk, plain-bulk, hold, http, http-get)")
    }
} catch {
    FileHandle.standardError.write(Data("symbolon-loadgen: \(error)\n".utf8))
    exit(1)
}
