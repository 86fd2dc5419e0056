import HTTP1

/// A complete response received by `HTTPClient.send`.
public struct HTTPClientResponse: Sendable {
    /// The version the server answered with.
    public let version: HTTPVersion
    /// The final status (interim 1xx responses are skipped).
    public let status: Int
    /// The reason phrase as sent.
    public let reason: String
    /// Header fields in order, names as sent.
    public let headers: [HTTPField]
    /// The whole body, de-chunked.
    public let body: [UInt8]

    /// A response with these parts (for tests and stubs).
    public init(version: HTTPVersion = .http11, status: Int, reason: String, headers: [HTTPField], body: [UInt8]) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// The values of the header `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] { headers.values(name) }

    /// The body decoded as UTF-8 (invalid sequences become U+FFFD).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
