import Foundation

extension SubjectAlternativeName {
    /// Checks the value's syntax: DNS names are LDH labels (an optional leading `*.` wildcard), IP addresses parse as
    /// IPv4 or IPv6, e-mail addresses are `local@domain` in printable ASCII, URIs are absolute and have no spaces.
    /// The error names the value and the rule it breaks.
    public func validate() throws {
        switch self {
        case .dns(let name): try SubjectAlternativeName.validateDNSName(name)
        case .ipAddress(let address):
            guard SubjectAlternativeName.ipAddressBytes(address) != nil else {
                throw X509Error(.invalidValue, "\"\(address.prefix(80))\" is not an IPv4 or IPv6 address")
            }
        case .email(let address):
            let parts = address.split(separator: "@", omittingEmptySubsequences: false)
            guard address.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
                address.unicodeScalars.allSatisfy({
                    $0.value > 0x20 && $0.value < 0x7f && $0 != "," && $0 != "<" && $0 != ">"
                })
            else {
                throw X509Error(
                    .invalidValue, "\"\(address.prefix(80))\" is not an e-mail address (local@domain, ASCII)")
            }
            try SubjectAlternativeName.validateDNSName(String(parts[1]), allowWildcard: false)
        case .uri(let uri):
            guard uri.utf8.count <= 2048,
                uri.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f && $0 != "," }),
                let colon = uri.firstIndex(of: ":"), colon != uri.startIndex,
                uri[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
            else {
                throw X509Error(
                    .invalidValue, "\"\(uri.prefix(80))\" is not an absolute URI (scheme:…, ASCII, no spaces or commas)"
                )
            }
        case .other(let value):
            throw X509Error(.unsupported, "cannot issue the name \"\(value.prefix(80))\"; use DNS, IP, URI or e-mail")
        }
    }

    static func validateDNSName(_ name: String, allowWildcard: Bool = true) throws {
        func reject(_ why: String) -> X509Error {
            X509Error(.invalidValue, "\"\(name.prefix(80))\" is not a valid DNS name: \(why)")
        }
        var labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= 253 else { throw reject("it must be 1 to 253 characters") }
        if labels.first == "*" {
            guard allowWildcard else { throw reject("a wildcard is not allowed here") }
            guard labels.count >= 3 else { throw reject("a wildcard needs at least two labels after it") }
            labels.removeFirst()
        }
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63 else { throw reject("labels must be 1 to 63 characters") }
            guard
                label.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }
                )
            else { throw reject("only letters, digits and \"-\" are allowed in a label") }
            guard label.first != "-", label.last != "-" else { throw reject("a label cannot start or end with \"-\"") }
        }
    }

    /// The 4 or 16 bytes of an IP address in text form, or nil.
    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
