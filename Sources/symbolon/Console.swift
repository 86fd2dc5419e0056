import Foundation

/// Where commands print: results to standard output, progress and warnings to standard error.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func warn(_ text: String) {
        FileHandle.standardError.write(Data(("warning: " + text + "\n").utf8))
    }

    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Shared option declarations and conversions for the commands.
enum CommonOptions {
    static let defaultDirectory = "./symbolon-data"

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// RFC 3339 in UTC, e.g. `2026-11-25T09:58:05Z`.
    static func format(_ date: Date) -> String { date.formatted(.iso8601) }

    /// "in 23h59m" / "2d ago".
    static func relative(_ date: Date, now: Date = Date()) -> String {
        let interval = date.timeIntervalSince(now)
        let text = describe(abs(interval))
        return interval >= 0 ? "in \(text)" : "\(text) ago"
    }

    static func describe(_ interval: TimeInterval) -> String {
        // Clamp first: a hostile --lifetime can be far beyond what Int holds.
        var seconds = interval.isFinite ? Int(min(max(interval, 0), 1e15).rounded()) : Int(1e15)
        var parts: [String] = []
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where seconds >= size && parts.count < 2 {
            parts.append("\(seconds / size)\(unit)")
            seconds %= size
        }
        return parts.isEmpty ? "0s" : parts.joined()
    }
}
