import X509

/// A compiled DNS SAN pattern: an exact name, or `*.suffix` matching exactly one more left label. Both compare ASCII
/// case-insensitively, byte by byte, without allocating.
struct DNSPattern: Sendable, Hashable {
    /// The pattern as written.
    let text: String
    /// The exact name, or `.suffix` for a wildcard, lowercased UTF-8.
    let lowercased: [UInt8]
    let isWildcard: Bool

    init(_ text: String) throws {
        do { try SubjectAlternativeName.dns(text).validate() } catch let error as X509Error {
            var reason = error.reason
            if text.contains("*"), !text.hasPrefix("*.") || text.dropFirst(2).contains("*") {
                reason += "; only a whole first label may be \"*\" (*.example.com)"
            }
            throw PolicyError(.invalidValue, reason)
        }
        self.text = text
        isWildcard = text.hasPrefix("*.")
        lowercased = Array((isWildcard ? String(text.dropFirst()) : text).utf8).map(DNSPattern.lower)
    }

    // Plain index loops, as in SPIFFEPattern: this runs on every connection.
    func matches(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { bytes in
            let labelLength = bytes.count - lowercased.count
            guard isWildcard ? labelLength > 0 : labelLength == 0 else { return false }
            // One label: letters, digits and "-" only (no ".", and a "*" in the certificate is not a name).
            var index = 0
            while index < labelLength {
                guard DNSPattern.isLabelByte(bytes[index]) else { return false }
                index += 1
            }
            var offset = 0
            while offset < lowercased.count {
                guard DNSPattern.lower(bytes[labelLength + offset]) == lowercased[offset] else { return false }
                offset += 1
            }
            return true
        }
    }

    static func lower(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    static func isLabelByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
            return true
        default: return false
        }
    }
}
