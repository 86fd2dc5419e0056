import Foundation

/// Decoding of SPKI pins as people paste them: bare base64 (`PublicKey.spkiSHA256Pin`) or curl's `sha256//BASE64`.
enum SPKIPin {
    static func decode(_ text: String) throws -> [UInt8] {
        func reject(_ why: String) -> PolicyError {
            PolicyError(.invalidValue, "invalid SPKI pin \"\(text.prefix(100))\": \(why)")
        }
        var base64 = Substring(text)
        if base64.hasPrefix("sha256//") {
            base64 = base64.dropFirst("sha256//".count)
        } else if let slash = base64.range(of: "//") {
            throw reject(
                "only SHA-256 pins are supported (\"sha256//BASE64\"), not \"\(base64[..<slash.lowerBound])\"")
        }
        guard !base64.isEmpty else { throw reject("it is empty") }
        if base64.count == 64, base64.allSatisfy(\.isHexDigit) {
            throw reject("it looks like hex; give the SHA-256 in base64, as `symbolon` and curl print it")
        }
        var padded = String(base64)
        if padded.count % 4 != 0 { padded += String(repeating: "=", count: 4 - padded.count % 4) }
        guard let bytes = Data(base64Encoded: padded) else { throw reject("it is not base64") }
        guard bytes.count == 32 else {
            throw reject("it decodes to \(bytes.count) bytes; a SHA-256 pin is 32 bytes (44 base64 characters)")
        }
        return [UInt8](bytes)
    }
}
