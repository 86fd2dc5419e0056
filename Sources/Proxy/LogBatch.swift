import Foundation
import NetCore

/// The log lines one event loop produced during an iteration, written together at its end: one `write(2)` for
/// all the connections and requests a loop finished in one pass instead of one per line. Loop-confined (one per
/// loop, kept with its `ConnectionRegistry`).
final class LogBatch {
    private let logger: ConnectionLogger
    private let loop: EventLoop
    private var pending: [UInt8] = []
    private var flushScheduled = false
    /// The timestamp text up to the seconds, for the last second seen: most lines of a busy loop share it.
    private var cachedSecond = -1
    private var cachedPrefix = ""

    /// Largest batch held before it is written at once.
    static let limit = 64 * 1024

    init(logger: ConnectionLogger, loop: EventLoop) {
        self.logger = logger
        self.loop = loop
    }

    /// Queues the line of a finished connection.
    func log(_ record: ConnectionRecord) { append(logger.line(record, time: timestamp())) }

    /// Queues the access-log line of a finished request.
    func log(_ record: RequestRecord) { append(logger.line(record, time: timestamp())) }

    /// Queues `line` and makes sure the batch is written when the loop's iteration ends.
    private func append(_ line: String) {
        pending.append(contentsOf: line.utf8)
        pending.append(0x0A)
        if pending.count >= LogBatch.limit {
            flush()
        } else if !flushScheduled {
            flushScheduled = true
            loop.runAtEndOfIteration { [self] in flush() }
        }
    }

    private func flush() {
        flushScheduled = false
        guard !pending.isEmpty else { return }
        logger.write(pending)
        pending.removeAll(keepingCapacity: pending.count <= LogBatch.limit)
    }

    /// The current time as the log prints it, formatting the date part only once per second.
    private func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let second = Int(now.tv_sec)
        if second != cachedSecond {
            cachedSecond = second
            let full = ConnectionLogger.timestamp(now)
            cachedPrefix = String(full.dropLast(4))  // "…:SS." without "mmmZ"
        }
        let milliseconds = Int(now.tv_nsec / 1_000_000)
        let digits = String(milliseconds)
        return cachedPrefix + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
}
