// The HTTP mode of symbolon-loadgen (bench/http.sh): small requests on kept-alive mTLS connections.
//
//   http --port P (--ca ROOT --cert F --key F | --plain yes) [--connections 64] [--threads 2] [--seconds 10]
//        [--warmup 2] [--path /small] [--host localhost] [--rate R] [--server-pids P,P…] [--backend-pids P,P…]
//       Opens --connections connections (split over --threads threads; with TLS each does its full handshake before
//       anything is timed), then every connection sends `GET PATH HTTP/1.1` and waits for the whole response before
//       sending the next one (closed loop, no pipelining). After --warmup seconds, --seconds seconds are measured:
//       requests completed in that window count, with their latency (request written → last byte of the response
//       parsed). Prints one `RESULT mode=http …` line: rps, p50/p90/p99/p99.9/max latency, errors, the lowest
//       rate in any 100 ms of the window, and — for the PIDs given — the servers' CPU seconds (utime+stime from
//       /proc) over exactly the measured window, CPU ms per 10k requests, RSS at the end, and the host's busy share.
//       --rate R (requests/s, all connections together) turns the closed loop into a fixed schedule: connection g of
//       C sends its requests at origin + (g + j·C)/R, or as soon as its previous response is in when that is later
//       (counted as `late` when more than 1 ms after the schedule). Latency still runs from the actual write.
//   http-get --port P (--ca ROOT --cert F --key F | --plain yes) [--path /headers] [--host localhost]
//       One request on one connection; prints the response (head and body) on stdout.
//
// Responses are parsed just enough to find their end: status line, Content-Length, chunked bodies (trailers
// skipped), bodiless statuses, and bodies delimited by the close. A `Connection: close` response makes the
// connection reconnect (counted as server_closes); a transport failure counts as an error and reconnects.
import Dispatch
import Foundation
import TLS

#if canImport(Glibc)
    import Glibc
#endif

// MARK: Transports

protocol HTTPTransport: AnyObject {
    var fd: Int32 { get }
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Non-blocking: hands whatever arrived to `sink`; false once the stream has ended.
    func pump(_ sink: (UnsafeRawBufferPointer) -> Void) throws -> Bool
    func close()
}

extension ClientConnection: HTTPTransport {}

/// Plain TCP (the backend alone, no TLS, no proxy).
final class PlainConnection: HTTPTransport {
    let fd: Int32
    private let buffer: ReceiveBuffer
    private var closed = false

    init(port: UInt16, buffer: ReceiveBuffer) throws {
        fd = try connectLoopback(port: port)
        self.buffer = buffer
    }
    deinit { close() }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 {
                if errno == EINTR { continue }
                throw LoadgenError("send: \(errnoText())")
            }
            offset += sent
        }
    }

    func pump(_ sink: (UnsafeRawBufferPointer) -> Void) throws -> Bool {
        while true {
            let received = recv(fd, buffer.pointer.baseAddress, buffer.pointer.count, Int32(MSG_DONTWAIT))
            if received > 0 {
                sink(UnsafeRawBufferPointer(rebasing: buffer.pointer[0..<received]))
                return true
            }
            if received == 0 { return false }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return true }
            throw LoadgenError("recv: \(errnoText())")
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }
}

// MARK: Response framing

/// Finds where one HTTP/1.1 response ends; remembers its status and whether the server will close.
struct ResponseReader {
    enum State: Equatable {
        case head
        case body(Int)
        case chunkLine
        case chunkData(Int)
        case chunkDataEnd(Int)  // CR LF still to come after the data (bytes left: 2 or 1)
        case trailers
        case untilClose
        case done
    }

    private static let terminator: [UInt8] = [13, 10, 13, 10]
    private(set) var state = State.head
    private(set) var status = 0
    private(set) var closes = false
    private(set) var headText: [UInt8] = []
    private var matched = 0
    private var line: [UInt8] = []
    private var lastLineEmpty = false
    private var isHEAD = false

    init() {
        headText.reserveCapacity(1024)
    }

    mutating func reset(head isHEAD: Bool = false) {
        state = .head
        status = 0
        closes = false
        headText.removeAll(keepingCapacity: true)
        matched = 0
        line.removeAll(keepingCapacity: true)
        self.isHEAD = isHEAD
    }

    /// Consumes bytes of the response from `bytes[from...]`; returns the index after the last byte consumed (the
    /// response is complete when `state == .done`; bytes after that belong to no request).
    mutating func feed(_ bytes: UnsafeRawBufferPointer, from start: Int = 0) throws -> Int {
        var index = start
        let count = bytes.count
        while index < count {
            switch state {
            case .done:
                return index
            case .head:
                let begin = index
                var end = -1
                while index < count {
                    let byte = bytes[index]
                    index += 1
                    if byte == ResponseReader.terminator[matched] {
                        matched += 1
                        if matched == 4 {
                            end = index
                            break
                        }
                    } else {
                        matched = byte == 13 ? 1 : 0
                    }
                }
                headText.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[begin..<index]))
                if headText.count > 65536 { throw LoadgenError("response head larger than 64 KiB") }
                if end >= 0 { try parseHead() }
            case .body(let remaining):
                let take = min(remaining, count - index)
                index += take
                state = remaining == take ? .done : .body(remaining - take)
            case .untilClose:
                index = count
            case .chunkLine, .trailers:
                let byte = bytes[index]
                index += 1
                if byte != 10 {
                    if line.count > 4096 { throw LoadgenError("chunk line too long") }
                    line.append(byte)
                    continue
                }
                if line.last == 13 { line.removeLast() }
                if state == .chunkLine {
                    var size = 0
                    var digits = 0
                    for digit in line {
                        let value: Int
                        switch digit {
                        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(digit - UInt8(ascii: "0"))
                        case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(digit - UInt8(ascii: "a")) + 10
                        case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(digit - UInt8(ascii: "A")) + 10
                        default: value = -1
                        }
                        if value < 0 { break }
                        size = size * 16 + value
                        digits += 1
                        if digits > 15 { throw LoadgenError("chunk size too large") }
                    }
                    if digits == 0 { throw LoadgenError("bad chunk size line") }
                    state = size == 0 ? .trailers : .chunkData(size)
                } else if line.isEmpty {
                    state = .done
                }
                line.removeAll(keepingCapacity: true)
            case .chunkData(let remaining):
                let take = min(remaining, count - index)
                index += take
                state = remaining == take ? .chunkDataEnd(2) : .chunkData(remaining - take)
            case .chunkDataEnd(let left):
                let byte = bytes[index]
                index += 1
                if left == 2 {
                    guard byte == 13 else { throw LoadgenError("chunk data not followed by CR LF") }
                    state = .chunkDataEnd(1)
                } else {
                    guard byte == 10 else { throw LoadgenError("chunk data not followed by CR LF") }
                    state = .chunkLine
                }
            }
        }
        return index
    }

    /// The stream ended: completes a close-delimited body; anything else unfinished is an error.
    mutating func endOfStream() -> Bool {
        if state == .untilClose { state = .done }
        return state == .done
    }

    private mutating func parseHead() throws {
        // Status line: HTTP/1.x SSS reason
        let text = headText
        guard text.count >= 12, text.starts(with: Array("HTTP/1.".utf8)) else {
            throw LoadgenError("not an HTTP/1.x response: \(String(decoding: text.prefix(40), as: UTF8.self))")
        }
        var status = 0
        for position in 9..<12 {
            let digit = text[position]
            guard digit >= 48, digit <= 57 else { throw LoadgenError("bad status line") }
            status = status * 10 + Int(digit - 48)
        }
        self.status = status
        let http10 = text[7] == UInt8(ascii: "0")
        var contentLength: Int?
        var chunked = false
        var connectionClose = http10
        // Header lines
        var lineStart = 0
        while lineStart < text.count, text[lineStart] != 10 { lineStart += 1 }
        lineStart += 1
        while lineStart < text.count {
            var lineEnd = lineStart
            while lineEnd < text.count, text[lineEnd] != 10 { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart, text[contentEnd - 1] == 13 { contentEnd -= 1 }
            if contentEnd > lineStart, let colon = text[lineStart..<contentEnd].firstIndex(of: UInt8(ascii: ":")) {
                var valueStart = colon + 1
                while valueStart < contentEnd, text[valueStart] == 32 || text[valueStart] == 9 { valueStart += 1 }
                var valueEnd = contentEnd
                while valueEnd > valueStart, text[valueEnd - 1] == 32 || text[valueEnd - 1] == 9 { valueEnd -= 1 }
                let name = text[lineStart..<colon]
                let value = text[valueStart..<valueEnd]
                if equalsIgnoringCase(name, "content-length") {
                    var length = 0
                    for digit in value {
                        guard digit >= 48, digit <= 57 else { throw LoadgenError("bad Content-Length") }
                        length = length * 10 + Int(digit - 48)
                    }
                    contentLength = length
                } else if equalsIgnoringCase(name, "transfer-encoding") {
                    chunked = containsIgnoringCase(value, "chunked")
                } else if equalsIgnoringCase(name, "connection") {
                    if containsIgnoringCase(value, "close") { connectionClose = true }
                    if containsIgnoringCase(value, "keep-alive") && http10 { connectionClose = false }
                }
            }
            lineStart = lineEnd + 1
        }
        closes = connectionClose
        if (100..<200).contains(status) && status != 101 {
            // An interim response: the real one follows.
            headText.removeAll(keepingCapacity: true)
            matched = 0
            return
        }
        if isHEAD || status == 204 || status == 304 || status == 101 {
            state = .done
        } else if chunked {
            state = .chunkLine
        } else if let contentLength {
            state = contentLength == 0 ? .done : .body(contentLength)
        } else {
            state = .untilClose
            closes = true
        }
    }
}

func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
    guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
    return lowercase.withUTF8Buffer { expected in
        var index = 0
        for byte in bytes {
            let lower = (byte >= 65 && byte <= 90) ? byte + 32 : byte
            if lower != expected[index] { return false }
            index += 1
        }
        return true
    }
}

func containsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: String) -> Bool {
    let lowered = String(decoding: bytes, as: UTF8.self).lowercased()
    return lowered.contains(lowercase)
}

// MARK: Process statistics (/proc)

/// utime + stime of the processes, in clock ticks (processes that are gone count 0).
func cpuTicks(_ pids: [Int32]) -> Int {
    var total = 0
    for pid in pids {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { continue }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After ") ": state is field 3 of the man page; utime and stime are 14 and 15.
        if fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) { total += user + system }
    }
    return total
}

func rssKiB(_ pids: [Int32]) -> Int {
    var total = 0
    for pid in pids {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { continue }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            total += Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
    }
    return total
}

/// (busy, total) jiffies of the whole host from /proc/stat.
func hostJiffies() -> (busy: Int, total: Int) {
    guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
        let line = text.split(separator: "\n").first
    else { return (0, 0) }
    let values = line.split(separator: " ").dropFirst().compactMap { Int($0) }
    guard values.count >= 5 else { return (0, 0) }
    let total = values.prefix(8).reduce(0, +)
    let idle = values[3] + values[4]
    return (total - idle, total)
}

func pidList(_ text: String?) throws -> [Int32] {
    guard let text, !text.isEmpty else { return [] }
    return try text.split(separator: ",").map {
        guard let pid = Int32($0) else { throw LoadgenError("bad PID list \(text)") }
        return pid
    }
}

// MARK: The load

func httpRequest(path: String, host: String) -> [UInt8] {
    Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: symbolon-loadgen\r\nAccept: */*\r\n\r\n".utf8)
}

struct HTTPTarget {
    let port: UInt16
    let context: TLSContext?

    func open(buffer: ReceiveBuffer) throws -> HTTPTransport {
        guard let context else { return try PlainConnection(port: port, buffer: buffer) }
        let connection = try ClientConnection(context: context, port: port, buffer: buffer)
        do {
            try connection.handshake()
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    init(_ options: Options) throws {
        port = try options.port
        context = options.values["plain"] == "yes" ? nil : try options.contexts()[0]
    }
}

final class LoadConnection {
    var transport: HTTPTransport?
    var reader = ResponseReader()
    var sentAt: UInt64 = 0
    var inFlight = false
    var nextAt: UInt64 = 0  // with --rate: when the next request is due
}

struct ThreadTally {
    var latencies: [UInt64] = []
    var buckets: [Int]
    var ok = 0  // 2xx responses completed in the window
    var badStatus = 0  // other statuses completed in the window
    var errors = 0  // transport or framing failures (any time)
    var serverCloses = 0
    var reconnectFailures = 0
    var requestsTotal = 0
    var late = 0
    var firstError: String?
    var firstBadStatus: String?
    var opened = 0

    init(buckets: Int) { self.buckets = [Int](repeating: 0, count: buckets) }

    mutating func error(_ text: String) {
        errors += 1
        if firstError == nil { firstError = text }
    }
}

struct Timeline {
    var origin: UInt64 = 0
    var measureStart: UInt64 = 0
    var measureEnd: UInt64 = 0
}

func httpLoad(_ options: Options) throws {
    let target = try HTTPTarget(options)
    let connections = try options.int("connections", 64)
    let threads = try options.int("threads", 2)
    let seconds = try options.double("seconds", 10)
    let warmup = try options.double("warmup", 2)
    let rate = try options.double("rate", 0)
    let request = httpRequest(path: options.values["path"] ?? "/small", host: options.values["host"] ?? "localhost")
    let serverPIDs = try pidList(options.values["server-pids"])
    let backendPIDs = try pidList(options.values["backend-pids"])
    guard connections >= threads, threads >= 1 else { throw LoadgenError("need --connections ≥ --threads ≥ 1") }
    let bucketCount = max(1, Int((seconds * 10).rounded(.up)))
    let ready = Locked<(count: Int, timeline: Timeline?)>((0, nil))
    let tallies = Locked<[ThreadTally]>([])
    let measured = Locked<[String: Double]>([:])
    let started = nanoseconds()

    runThreads(threads + 1) { thread in
        // Waits until every worker has its connections open; the last one to arrive sets the timeline.
        func timeline(arriving: Bool) -> Timeline {
            if arriving {
                ready.withLock { state in
                    state.count += 1
                    if state.count == threads {
                        let origin = nanoseconds() + 20_000_000
                        let measureStart = origin + UInt64(warmup * 1e9)
                        state.timeline = Timeline(
                            origin: origin, measureStart: measureStart, measureEnd: measureStart + UInt64(seconds * 1e9)
                        )
                    }
                }
            }
            while true {
                if let timeline = ready.withLock({ $0.timeline }) { return timeline }
                usleep(1000)
            }
        }

        if thread == threads {
            // The monitor: the servers' CPU over exactly the measured window.
            let times = timeline(arriving: false)
            sleep(until: times.measureStart)
            let server0 = cpuTicks(serverPIDs)
            let backend0 = cpuTicks(backendPIDs)
            let host0 = hostJiffies()
            let client0 = processCPUSeconds()
            sleep(until: times.measureEnd)
            let server1 = cpuTicks(serverPIDs)
            let backend1 = cpuTicks(backendPIDs)
            let host1 = hostJiffies()
            let client1 = processCPUSeconds()
            let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
            measured.withLock {
                $0["server_cpu_s"] = Double(server1 - server0) / hz
                $0["backend_cpu_s"] = Double(backend1 - backend0) / hz
                $0["client_cpu_s"] = client1 - client0
                $0["host_busy"] =
                    host1.total > host0.total
                    ? Double(host1.busy - host0.busy) / Double(host1.total - host0.total) : 0
                $0["server_rss_kib"] = Double(rssKiB(serverPIDs))
            }
            return
        }

        var tally = ThreadTally(buckets: bucketCount)
        tally.latencies.reserveCapacity(200_000)
        let buffer = ReceiveBuffer(size: 64 * 1024)
        let mine = connections / threads + (thread < connections % threads ? 1 : 0)
        var pool: [LoadConnection] = []
        // poll(2) over this thread's few dozen sockets (the Glibc module has no epoll); rebuilt when one changes.
        var polled: [pollfd] = []
        var polledIndex: [Int] = []
        var pollDirty = true
        func register(_ index: Int) { pollDirty = true }
        func drop(_ index: Int) {
            guard let transport = pool[index].transport else { return }
            pollDirty = true
            transport.close()
            pool[index].transport = nil
            pool[index].inFlight = false
        }
        for _ in 0..<mine {
            let connection = LoadConnection()
            do {
                connection.transport = try target.open(buffer: buffer)
                tally.opened += 1
            } catch {
                tally.error("connect/handshake: \(error)")
            }
            pool.append(connection)
            register(pool.count - 1)
        }
        let times = timeline(arriving: true)
        sleep(until: times.origin)

        var sending = true
        // With --rate: this thread's connections are g = first…first+mine-1 of all; each sends every C/R seconds.
        let first = thread * (connections / threads) + min(thread, connections % threads)
        let interval = rate > 0 ? UInt64(Double(connections) / rate * 1e9) : 0
        if rate > 0 {
            for (local, connection) in pool.enumerated() {
                connection.nextAt = times.origin + UInt64(Double(first + local) / rate * 1e9)
            }
        }
        func due(_ index: Int, _ now: UInt64) -> Bool { rate == 0 || now >= pool[index].nextAt }
        func send(_ index: Int) {
            let connection = pool[index]
            if rate > 0 {
                let now = nanoseconds()
                if now > connection.nextAt + 1_000_000 { tally.late += 1 }
                connection.nextAt += interval
            }
            if connection.transport == nil {
                // Reconnect (after the server closed or failed): blocking, outside any timing.
                do {
                    connection.transport = try target.open(buffer: buffer)
                    register(index)
                } catch {
                    tally.reconnectFailures += 1
                    tally.error("reconnect: \(error)")
                    return
                }
            }
            connection.reader.reset()
            connection.sentAt = nanoseconds()
            do {
                try request.withUnsafeBytes { try connection.transport!.write($0) }
                connection.inFlight = true
                tally.requestsTotal += 1
            } catch {
                tally.error("write: \(error)")
                drop(index)
            }
        }
        func complete(_ index: Int, at now: UInt64) {
            let connection = pool[index]
            connection.inFlight = false
            if now >= times.measureStart && now < times.measureEnd {
                if (200..<300).contains(connection.reader.status) {
                    tally.ok += 1
                    tally.latencies.append(now - connection.sentAt)
                    tally.buckets[min(bucketCount - 1, Int((now - times.measureStart) / 100_000_000))] += 1
                } else {
                    tally.badStatus += 1
                    if tally.firstBadStatus == nil {
                        tally.firstBadStatus = String(decoding: connection.reader.headText.prefix(200), as: UTF8.self)
                    }
                }
            }
            if connection.reader.closes {
                tally.serverCloses += 1
                drop(index)
            }
        }
        if rate == 0 { for index in pool.indices where pool[index].transport != nil { send(index) } }

        let drainUntil = times.measureEnd + 3_000_000_000
        while true {
            let now = nanoseconds()
            if sending && now >= times.measureEnd { sending = false }
            if !sending && (now >= drainUntil || !pool.contains(where: { $0.inFlight })) { break }
            if tally.errors > 10_000 { break }
            if pollDirty {
                polled.removeAll(keepingCapacity: true)
                polledIndex.removeAll(keepingCapacity: true)
                for (index, connection) in pool.enumerated() {
                    guard let fd = connection.transport?.fd else { continue }
                    polled.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                    polledIndex.append(index)
                }
                pollDirty = false
            }
            var timeout: Int32 = 10
            if rate > 0 && sending {
                // Wait for input or the next due request, whichever comes first (poll's milliseconds are too coarse
                // for the last one: sleep through it, then only look).
                var soonest = now + 10_000_000
                for connection in pool where !connection.inFlight { soonest = min(soonest, connection.nextAt) }
                let delay = soonest > now ? soonest - now : 0
                timeout = Int32(delay / 1_000_000)
                if timeout == 0 && delay > 0 { sleep(until: soonest) }
            }
            let ready = poll(&polled, nfds_t(polled.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                tally.error("poll: \(errnoText())")
                break
            }
            if rate > 0 && sending {
                let now = nanoseconds()
                for index in pool.indices where !pool[index].inFlight && due(index, now) { send(index) }
            }
            if ready == 0 { continue }
            for slot in polled.indices where polled[slot].revents != 0 {
                polled[slot].revents = 0
                let index = polledIndex[slot]
                let connection = pool[index]
                guard let transport = connection.transport else { continue }
                var failure: String?
                var finished = false
                let open: Bool
                do {
                    open = try transport.pump { bytes in
                        guard failure == nil else { return }
                        if !connection.inFlight || finished {
                            failure = "\(bytes.count) unexpected bytes from the server"
                            return
                        }
                        do {
                            let used = try connection.reader.feed(bytes)
                            if connection.reader.state == .done {
                                finished = true
                                if used < bytes.count { failure = "\(bytes.count - used) bytes after the response" }
                            }
                        } catch {
                            failure = "\(error)"
                        }
                    }
                } catch {
                    failure = "\(error)"
                    open = false
                }
                if !open && !finished && connection.inFlight && failure == nil {
                    if connection.reader.endOfStream() {
                        finished = true
                    } else {
                        failure = "the server closed the connection mid-response (\(connection.reader.state))"
                    }
                }
                let done = nanoseconds()
                if finished { complete(index, at: done) }
                if let failure {
                    tally.error(failure)
                    drop(index)
                } else if !open, connection.transport != nil {
                    // Closed after a complete response without saying so, or while idle.
                    if finished {
                        tally.serverCloses += 1
                    } else {
                        tally.error("the server closed an idle kept-alive connection")
                    }
                    drop(index)
                }
                if sending && !pool[index].inFlight && due(index, nanoseconds()) { send(index) }
            }
        }
        for index in pool.indices { drop(index) }
        let final = tally
        tallies.withLock { $0.append(final) }
    }

    let all = tallies.withLock { $0 }
    let stats = measured.withLock { $0 }
    var latencies: [UInt64] = []
    var buckets = [Int](repeating: 0, count: bucketCount)
    var ok = 0
    var badStatus = 0
    var errors = 0
    var serverCloses = 0
    var reconnectFailures = 0
    var opened = 0
    var requests = 0
    var late = 0
    var firstError: String?
    var firstBadStatus: String?
    for tally in all {
        latencies.append(contentsOf: tally.latencies)
        for (index, value) in tally.buckets.enumerated() { buckets[index] += value }
        ok += tally.ok
        badStatus += tally.badStatus
        errors += tally.errors
        serverCloses += tally.serverCloses
        reconnectFailures += tally.reconnectFailures
        opened += tally.opened
        requests += tally.requestsTotal
        late += tally.late
        firstError = firstError ?? tally.firstError
        firstBadStatus = firstBadStatus ?? tally.firstBadStatus
    }
    latencies.sort()
    if let firstError { FileHandle.standardError.write(Data("first error: \(firstError)\n".utf8)) }
    if let firstBadStatus { FileHandle.standardError.write(Data("first non-2xx response: \(firstBadStatus)\n".utf8)) }
    let rps = Double(ok) / seconds
    let serverCPU = stats["server_cpu_s"] ?? 0
    let minBucket = (buckets.min() ?? 0) * 10
    let emptyBuckets = buckets.filter { $0 == 0 }.count
    func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    emit(
        "RESULT mode=http tls=\(target.context != nil ? "yes" : "no") connections=\(connections) opened=\(opened)",
        "threads=\(threads) warmup=\(warmup) seconds=\(seconds) rate=\(rate > 0 ? format(rate, 0) : "closed-loop")",
        "ok=\(ok) rps=\(format(rps, 1)) late=\(late)",
        "p50_ms=\(percentileMs(latencies, 0.5)) p90_ms=\(percentileMs(latencies, 0.9))",
        "p99_ms=\(percentileMs(latencies, 0.99)) p999_ms=\(percentileMs(latencies, 0.999))",
        "max_ms=\(percentileMs(latencies, 1.0)) bad_status=\(badStatus) errors=\(errors)",
        "server_closes=\(serverCloses) reconnect_failures=\(reconnectFailures) requests_sent=\(requests)",
        "min_rps_100ms=\(minBucket) stalled_100ms=\(emptyBuckets)",
        "over_50ms=\(latencies.count - (latencies.firstIndex { $0 >= 50_000_000 } ?? latencies.count))",
        "over_150ms=\(latencies.count - (latencies.firstIndex { $0 >= 150_000_000 } ?? latencies.count))",
        "server_cpu_s=\(format(serverCPU, 2))",
        "server_cpu_ms_per_10k=\(ok > 0 ? format(serverCPU * 1000 * 10_000 / Double(ok), 1) : "nan")",
        "server_rss_kib=\(Int(stats["server_rss_kib"] ?? 0)) backend_cpu_s=\(format(stats["backend_cpu_s"] ?? 0, 2))",
        "client_cpu_s=\(format(stats["client_cpu_s"] ?? 0, 2)) host_busy=\(format(stats["host_busy"] ?? 0, 3))",
        "elapsed_s=\(format(Double(nanoseconds() - started) / 1e9, 2))")
    if opened == 0 || ok == 0 { exit(1) }
}

func httpGet(_ options: Options) throws {
    let target = try HTTPTarget(options)
    let request = httpRequest(path: options.values["path"] ?? "/headers", host: options.values["host"] ?? "localhost")
    let buffer = ReceiveBuffer(size: 64 * 1024)
    let transport = try target.open(buffer: buffer)
    defer { transport.close() }
    try request.withUnsafeBytes { try transport.write($0) }
    var reader = ResponseReader()
    var body: [UInt8] = []  // the whole response, head included
    let deadline = nanoseconds() + 10_000_000_000
    var failure: Error?
    while reader.state != .done {
        if nanoseconds() > deadline { throw LoadgenError("no complete response within 10 s") }
        var poller = pollfd(fd: transport.fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&poller, 1, 1000)
        let open = try transport.pump { bytes in
            do {
                _ = try reader.feed(bytes)
                body.append(contentsOf: bytes)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        if !open {
            if !reader.endOfStream() { throw LoadgenError("connection closed before the response ended") }
        }
    }
    FileHandle.standardOutput.write(Data(body))
    if body.last != 10 { FileHandle.standardOutput.write(Data("\n".utf8)) }
}
