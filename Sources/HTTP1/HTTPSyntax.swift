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
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    /// The lower-cased tokens of the `Connection` fields: hop-by-hop options, and names of fields for this hop only.
    public static func connectionTokens(_ headers: [HTTPField]) -> [String] { tokens("connection", in: headers) }

    /// The comma-separated tokens of the `name` fields, trimmed and lower-cased (`Connection: close, Upgrade`).
    static func tokens(_ name: String, in headers: [HTTPField]) -> [String] {
        headers.filter { $0.lowercasedName == name }.flatMap { $0.value.split(separator: ",") }.map {
            trimmed($0).lowercased()
        }
    }
}
