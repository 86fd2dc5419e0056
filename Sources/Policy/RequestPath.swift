/// A request target's path as the route policy matches it, or the reason it is refused.
///
/// Backends disagree about paths a proxy must not guess at, so those are refused rather than normalised: dot
/// segments (also percent-encoded), encoded `/` and `\`, a literal backslash, empty segments, malformed escapes, a
/// target that is not origin form. Otherwise the path is split into segments, percent-encoded unreserved
/// characters are decoded (`/%6Frders` is `/orders`), and `;parameters` are dropped from each segment (`/admin;x`
/// is `/admin`), so that every spelling a backend reads as a given path matches that path's route.
public struct RequestPath: Sendable, Equatable, CustomStringConvertible {
    /// The segments after the leading `/`: `/` is `[""]`, `/a/b/` is `["a", "b", ""]`.
    public let segments: [String]
    /// `OPTIONS *`.
    public let isAsterisk: Bool

    /// Why a target was refused.
    public struct Ambiguous: Error, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Parses `target` (the request target as sent: path and query).
    public init(target: String) throws {
        if target == "*" {
            segments = []
            isAsterisk = true
            return
        }
        isAsterisk = false
        guard target.hasPrefix("/") else {
            throw Ambiguous(reason: "the request target must be a path starting with / (origin form)")
        }
        let path = target.utf8.prefix { $0 != UInt8(ascii: "?") }
        guard !path.contains(UInt8(ascii: "\\")), !path.contains(UInt8(ascii: "#")) else {
            throw Ambiguous(reason: "a backslash or # in the path")
        }
        let raw = path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        var segments: [String] = []
        segments.reserveCapacity(raw.count)
        for (index, part) in raw.enumerated() {
            let withoutParameters = part.prefix { $0 != UInt8(ascii: ";") }
            let segment = try RequestPath.decode(withoutParameters)
            if segment.isEmpty, index != raw.count - 1 {
                throw Ambiguous(reason: "an empty path segment (//)")
            }
            if segment == "." || segment == ".." {
                throw Ambiguous(reason: "a dot segment (. or ..) in the path")
            }
            segments.append(segment)
        }
        self.segments = segments
    }

    public var description: String { isAsterisk ? "*" : "/" + segments.joined(separator: "/") }

    /// Decodes escapes of unreserved characters; keeps other escapes (upper-cased); refuses encoded `/` and `\`.
    private static func decode(_ bytes: Substring.UTF8View.SubSequence) throws -> String {
        guard bytes.contains(UInt8(ascii: "%")) else { return String(Substring(bytes)) }
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                index = bytes.index(after: index)
                continue
            }
            let first = bytes.index(after: index)
            guard first < bytes.endIndex, bytes.index(after: first) < bytes.endIndex,
                let high = hexValue(bytes[first]), let low = hexValue(bytes[bytes.index(after: first)])
            else {
                throw Ambiguous(reason: "a % in the path that is not followed by two hexadecimal digits")
            }
            let value = high << 4 | low
            switch value {
            case UInt8(ascii: "/"), UInt8(ascii: "\\"):
                throw Ambiguous(reason: "an encoded / or \\ (%2F, %5C) in the path")
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(value)
            default:
                out.append(UInt8(ascii: "%"))
                out += Array(String(value, radix: 16, uppercase: true).utf8).paddedHex
            }
            index = bytes.index(first, offsetBy: 2)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension Array where Element == UInt8 {
    /// Two hex digits (a single digit gets a leading 0).
    fileprivate var paddedHex: [UInt8] { count == 1 ? [UInt8(ascii: "0")] + self : self }
}
