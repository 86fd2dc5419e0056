/// One header field, its name as sent and lower-cased once for lookups.
public struct HTTPField: Sendable, Equatable {
    public let name: String
    public let value: String
    public let lowercasedName: String

    /// `name` must be a token and `value` free of CR, LF and NUL: the parser guarantees it for what it reads, and
    /// the proxy for what it builds.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
        self.lowercasedName = HTTPSyntax.asciiLowercased(name)
    }

    public static func == (lhs: HTTPField, rhs: HTTPField) -> Bool {
        lhs.lowercasedName == rhs.lowercasedName && lhs.value == rhs.value
    }
}

/// HTTP/1.0 or HTTP/1.1, the versions spoken here.
public enum HTTPVersion: String, Sendable {
    case http10 = "HTTP/1.0"
    case http11 = "HTTP/1.1"
}

/// How a message's body is delimited.
public enum HTTPFraming: Sendable, Equatable {
    case none
    case contentLength(UInt64)
    case chunked
    /// A response body that ends when the connection does.
    case untilClose
}

extension Array where Element == HTTPField {
    /// The values of `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] {
        let lowered = name.lowercased()
        return filter { $0.lowercasedName == lowered }.map(\.value)
    }

    /// Without any field named in `lowercasedNames`.
    public func removing(_ lowercasedNames: Set<String>) -> [HTTPField] {
        filter { !lowercasedNames.contains($0.lowercasedName) }
    }

    /// Appends the encoded fields and the blank line that ends a head.
    func encode(into buffer: inout [UInt8]) {
        for field in self {
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(0x3A)
            buffer.append(0x20)
            buffer.append(contentsOf: field.value.utf8)
            buffer.append(0x0D)
            buffer.append(0x0A)
        }
        buffer.append(0x0D)
        buffer.append(0x0A)
    }
}
