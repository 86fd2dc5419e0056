import Foundation

extension Collection where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Uppercase hex with colons, the way `openssl x509 -fingerprint` prints.
    public var colonHexString: String {
        map { String(format: "%02X", $0) }.joined(separator: ":")
    }
}
