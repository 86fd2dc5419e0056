import Foundation
import PrivateCA

/// Conversions and formats the commands share.
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

    /// A duration in at most two units, e.g. `3649d23h`.
    static func describe(_ interval: TimeInterval) -> String { CertificateAuthority.describe(interval, units: 2) }
}
