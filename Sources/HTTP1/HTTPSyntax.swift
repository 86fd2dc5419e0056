/// Character classes and small helpers from RFC 9110.
public enum HTTPSyntax {
    static func isHexByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }

    /// tchar.
    public static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }

    /// `text` without leading and trailing spaces and tabs.
    static func trimmed(_ text: Substring) -> String {
        let bytes = text.utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start = bytes.index(after: start) }
        while end > start {
            let before = bytes.index(before: end)
            guard bytes[before] == 0x20 || bytes[before] == 0x09 else { break }
            end = before
        }
        return String(Substring(bytes[start..<end]))
    }

    /// ASCII lower case (header names are ASCII tokens); no copy when there is nothing to change.
    static func asciiLowercased(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return text }
        let utf8 = text.utf8
        return String(unsafeUninitializedCapacity: utf8.count) { buffer in
            var index = 0
            for byte in utf8 {
                buffer[index] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                index += 1
            }
            return index
        }
    }

    /// The lower-cased tokens of the `Connection` fields: hop-by-hop options, and names of fields for this hop only.
    public static func connectionTokens(_ headers: [HTTPField]) -> [String] { tokens("connection", in: headers) }

    /// The comma-separated tokens of the `name` fields, trimmed and lower-cased (`Connection: close, Upgrade`).
    static func tokens(_ name: String, in headers: [HTTPField]) -> [String] {
        var tokens: [String] = []
        for field in headers where field.lowercasedName == name {
            for token in field.value.split(separator: ",") { tokens.append(asciiLowercased(trimmed(token))) }
        }
        return tokens
    }
}
