import Foundation
import Synchronization

/// Writes one line per connection (and a few lifecycle lines) to standard error, as text or JSON. One `write(2)`
/// per line, so lines from different threads never interleave.
public final class ConnectionLogger: Sendable {
    public enum Format: String, Sendable { case text, json }

    public let format: Format
    let descriptor: Int32
    private let writeLock = Mutex(())

    public init(format: Format, descriptor: Int32 = 2) {
        self.format = format
        self.descriptor = descriptor
    }

    /// The line for one finished connection.
    public func log(_ record: ConnectionRecord) { write(line(record, time: ConnectionLogger.timestamp())) }

    func line(_ record: ConnectionRecord, time: String) -> String {
        switch format {
        case .text:
            var line = "\(time) conn peer=\(record.peer) identity=\(quoted(record.identity))"
            line += " tls=\(record.tlsVersion) cipher=\(record.cipher) resumed=\(record.resumed)"
            line += " decision=\(record.decision.rawValue) reason=\(quoted(record.reason))"
            line += " bytes_in=\(record.bytesIn) bytes_out=\(record.bytesOut)"
            line += " duration_ms=\(ConnectionLogger.tenths(record.durationMilliseconds))"
            return line
        case .json:
            let fields: [(String, String)] = [
                ("time", json(time)), ("event", json("connection")), ("peer", json(record.peer)),
                ("identity", json(record.identity)), ("tls", json(record.tlsVersion)), ("cipher", json(record.cipher)),
                ("resumed", record.resumed ? "true" : "false"), ("decision", json(record.decision.rawValue)),
                ("reason", json(record.reason)), ("bytes_in", "\(record.bytesIn)"),
                ("bytes_out", "\(record.bytesOut)"),
                ("duration_ms", ConnectionLogger.tenths(record.durationMilliseconds)),
            ]
            return "{" + fields.map { "\(json($0.0)):\($0.1)" }.joined(separator: ",") + "}"
        }
    }

    /// The access-log line for one HTTP request.
    public func log(_ record: RequestRecord) { write(line(record, time: ConnectionLogger.timestamp())) }

    func line(_ record: RequestRecord, time: String) -> String {
        let duration = ConnectionLogger.tenths(record.durationMilliseconds)
        switch format {
        case .text:
            var line = "\(time) request peer=\(record.peer) identity=\(quoted(record.identity))"
            line += " method=\(quoted(record.method)) path=\(quoted(record.path)) status=\(record.status)"
            line += " bytes_in=\(record.bytesIn) bytes_out=\(record.bytesOut) duration_ms=\(duration)"
            line += " decision=\(record.decision.rawValue) route=\(quoted(record.route)) rule=\(quoted(record.rule))"
            line += " reason=\(quoted(record.reason))"
            return line
        case .json:
            let fields: [(String, String)] = [
                ("time", json(time)), ("event", json("request")), ("peer", json(record.peer)),
                ("identity", json(record.identity)), ("method", json(record.method)), ("path", json(record.path)),
                ("status", "\(record.status)"), ("bytes_in", "\(record.bytesIn)"), ("bytes_out", "\(record.bytesOut)"),
                ("duration_ms", duration), ("decision", json(record.decision.rawValue)), ("route", json(record.route)),
                ("rule", json(record.rule)), ("reason", json(record.reason)),
            ]
            return "{" + fields.map { "\(json($0.0)):\($0.1)" }.joined(separator: ",") + "}"
        }
    }

    /// A lifecycle message (listening, reloaded, reload failed, draining).
    public func event(_ name: String, _ message: String) {
        let time = ConnectionLogger.timestamp()
        switch format {
        case .text: write("\(time) \(name) \(message)")
        case .json: write("{\"time\":\(json(time)),\"event\":\(json(name)),\"message\":\(json(message))}")
        }
    }

    private func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        write(bytes)
    }

    /// Writes whole lines with one `write(2)` (repeated only for a short write), under a lock: a batch from one
    /// thread never interleaves with another's, even on a pipe.
    func write(_ bytes: [UInt8]) {
        writeLock.withLock { _ in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0, errno == EINTR { continue }
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }

    /// A bare value when it is safe to print as is; otherwise a JSON-escaped string, so a hostile name in a
    /// certificate can never break the one-line-per-connection format.
    private func quoted(_ text: String) -> String {
        let plain =
            !text.isEmpty
            && text.unicodeScalars.allSatisfy {
                $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "=" && $0 != "\\"
            }
        return plain ? text : json(text)
    }

    private func json(_ text: String) -> String { JSONText.quoted(text) }

    /// RFC 3339 UTC with milliseconds, e.g. `2026-11-25T12:00:21.119Z`. Formatted by hand: this runs for every
    /// connection, and Foundation's formatters cost more than the rest of the log line.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return timestamp(now)
    }

    static func timestamp(_ now: timespec) -> String {
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        var text = ""
        text.reserveCapacity(24)
        func append(_ value: Int, width: Int) {
            var digits = String(value)
            while digits.utf8.count < width { digits = "0" + digits }
            text += digits
        }
        append(Int(parts.tm_year) + 1900, width: 4)
        text += "-"
        append(Int(parts.tm_mon) + 1, width: 2)
        text += "-"
        append(Int(parts.tm_mday), width: 2)
        text += "T"
        append(Int(parts.tm_hour), width: 2)
        text += ":"
        append(Int(parts.tm_min), width: 2)
        text += ":"
        append(Int(parts.tm_sec), width: 2)
        text += "."
        append(Int(now.tv_nsec / 1_000_000), width: 3)
        return text + "Z"
    }

    /// `value` with one decimal, e.g. `12.3`.
    static func tenths(_ value: Double) -> String {
        let scaled = Int((max(0, value) * 10).rounded())
        return "\(scaled / 10).\(scaled % 10)"
    }
}
