/// A parsed request line and header section, with the framing the parser decided on.
public struct HTTPRequestHead: Sendable {
    public typealias Version = HTTPVersion
    public typealias Framing = HTTPFraming

    public let method: String
    /// The request target as sent (origin form `/path?query`, absolute form, authority form for CONNECT, or `*`).
    public let target: String
    public let version: HTTPVersion
    /// Header fields in order, names as sent.
    public var headers: [HTTPField]
    public let framing: HTTPFraming

    public init(method: String, target: String, version: HTTPVersion, headers: [HTTPField], framing: HTTPFraming) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.framing = framing
    }

    /// The values of `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] { headers.values(name) }

    /// Whether the connection stays open after this exchange (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only
    /// with `Connection: keep-alive`).
    public var keepAlive: Bool { keepAlive(connectionTokens: HTTPSyntax.connectionTokens(headers)) }

    /// `keepAlive`, from the `Connection` tokens already at hand.
    public func keepAlive(connectionTokens tokens: [String]) -> Bool {
        switch version {
        case .http11: return !tokens.contains("close")
        case .http10: return tokens.contains("keep-alive")
        }
    }

    /// `Expect: 100-continue` was sent.
    public var expectsContinue: Bool { values("expect").contains { $0.lowercased() == "100-continue" } }

    /// The protocol asked for with `Upgrade` and `Connection: upgrade`, if any.
    public var upgrade: String? { upgrade(connectionTokens: HTTPSyntax.connectionTokens(headers)) }

    /// `upgrade`, from the `Connection` tokens already at hand.
    public func upgrade(connectionTokens tokens: [String]) -> String? {
        guard tokens.contains("upgrade") else { return nil }
        return values("upgrade").first
    }

    /// The path part of the target (before `?`).
    public var path: Substring { target.prefix { $0 != "?" } }

    /// A copy without any field named in `names` (case-insensitive): how inbound copies of identity headers are
    /// stripped before the proxy adds its own.
    public func removing(_ names: Set<String>) -> HTTPRequestHead {
        var copy = self
        copy.headers = headers.removing(Set(names.map { $0.lowercased() }))
        return copy
    }

    /// A copy with `fields` appended (values the proxy itself builds).
    public func adding(_ fields: [HTTPField]) -> HTTPRequestHead {
        var copy = self
        copy.headers += fields
        return copy
    }

    /// The head as sent on the wire: request line, fields in order, blank line.
    public func encoded() -> [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }

    /// Appends the head as sent on the wire to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        buffer.append(contentsOf: method.utf8)
        buffer.append(0x20)
        buffer.append(contentsOf: target.utf8)
        buffer.append(0x20)
        buffer.append(contentsOf: version.rawValue.utf8)
        buffer.append(0x0D)
        buffer.append(0x0A)
        headers.encode(into: &buffer)
    }
}
