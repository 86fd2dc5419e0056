/// A parsed request line and header section, with the framing the parser decided on.
public struct HTTPRequestHead: Sendable {
    public enum Version: String, Sendable {
        case http10 = "HTTP/1.0"
        case http11 = "HTTP/1.1"
    }

    /// How the body is delimited.
    public enum Framing: Sendable, Equatable {
        case none
        case contentLength(UInt64)
        case chunked
    }

    public let method: String
    /// The request target as sent (origin form `/path?query`, absolute form, authority form for CONNECT, or `*`).
    public let target: String
    public let version: Version
    /// Header fields in order, names as sent.
    public let headers: [(name: String, value: String)]
    public let framing: Framing

    /// The values of `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// Whether the connection stays open after this exchange (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only
    /// with `Connection: keep-alive`).
    public var keepAlive: Bool {
        let tokens = values("connection").flatMap { $0.split(separator: ",") }.map {
            String($0.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
                .lowercased()
        }
        switch version {
        case .http11: return !tokens.contains("close")
        case .http10: return tokens.contains("keep-alive")
        }
    }

    /// `Expect: 100-continue` was sent.
    public var expectsContinue: Bool { values("expect").contains { $0.lowercased() == "100-continue" } }
}
