import Foundation
import Synchronization

/// Writes one line per connection (and a few lifecycle lines) to standard error, as text or JSON. One `write(2)`
/// per line, so lines from different threads never interleave.
public final class ConnectionLogger: Sendable {
    public enum Format: String, Sendable { case text, json }

    public let format: Format
    let descriptor: Int32

    public init(format: Format, descriptor: Int32 = 2) {
        self.format = format
        self.descriptor = descriptor
    }

    /// The line for one finished connection.
    public func log(_ record: ConnectionRecord) {
        let time = ConnectionLogger.timestamp()
        switch format {
        case .text:
            var line = "\(time) conn peer=\(record.peer) identity=\(quoted(record.identity))"
            line += " tls=\(record.tlsVersion) cipher=\(record.cipher) resumed=\(record.resumed)"
            line += " decision=\(record.decision.rawValue) reason=\(quoted(record.reason))"
            line += " bytes_in=\(record.bytesIn) bytes_out=\(record.bytesOut)"
            line += " duration_ms=\(String(format: "%.1f", record.durationMilliseconds))"
            write(line)
        case .json:
            let fields: [(String, String)] = [
                ("time", json(time)), ("event", json("connection")), ("peer", json(record.peer)),
                ("identity", json(record.identity)), ("tls", json(record.tlsVersion)), ("cipher", json(record.cipher)),
                ("resumed", record.resumed ? "true" : "false"), ("decision", json(record.decision.rawValue)),
                ("reason", json(record.reason)), ("bytes_in", "\(record.bytesIn)"),
                ("bytes_out", "\(record.bytesOut)"),
                ("duration_ms", String(format: "%.1f", record.durationMilliseconds)),
            ]
            write("{" + fields.map { "\(json($0.0)):\($0.1)" }.joined(separator: ",") + "}")
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
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
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

    private func json(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec, now.tv_nsec / 1_000_000)
    }
}
