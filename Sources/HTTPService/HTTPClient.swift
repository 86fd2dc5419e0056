import HTTP1
import NetCore
import TLS

/// A small, strict HTTP/1.1 client: one request per connection (plaintext or TLS, mTLS when the context carries a
/// certificate), the response parsed as strictly as the server parses requests and collected whole.
///
/// ```swift
/// let client = HTTPClient(group: group)
/// let tls = try TLSContext(configuration: .makeClientConfigurationWithMTLS(
///     certificateChain: [leaf, intermediate], privateKey: key, trustBundle: [root],
///     expectedServerNames: [.dns("ca.acme.internal")]))
/// let response = try await client.send(
///     HTTPClientRequest(method: "POST", target: "/v1/renew", body: csr),
///     to: try SocketAddress.parse("10.0.0.5:8443"), tls: tls, timeout: .seconds(10))
/// ```
///
/// Every failure is an `HTTPClientError` whose code says what kind (refused, TLS, timeout, malformed, too large …)
/// and whose reason says what to do. No keep-alive pool: each call connects, sends, reads, closes.
public final class HTTPClient: Sendable {
    /// The loops the connections run on.
    public let group: EventLoopGroup
    /// Bounds on the response: status line, header section, and body (`bodyBytes` nil is taken as 1 MiB, since
    /// the body is held whole).
    public let limits: HTTPLimits

    /// A client on `group` (started if it was not). The group outlives the client; shut it down yourself.
    public init(group: EventLoopGroup, limits: HTTPLimits = HTTPLimits(bodyBytes: 1024 * 1024)) {
        self.group = group
        var limits = limits
        if limits.bodyBytes == nil { limits.bodyBytes = 1024 * 1024 }
        self.limits = limits
        group.start()
    }

    /// Sends `request` to `address` and returns the complete response (any status: a 404 is a response, not an
    /// error). With `tls`, the connection runs TLS with that client context (its certificate makes it mTLS; the
    /// server is checked against its trust bundle and expected names). `timeout` bounds the whole exchange:
    /// connect, handshake, request and response.
    ///
    /// Cancelling the calling task closes the connection and throws `.cancelled`.
    public func send(
        _ request: HTTPClientRequest, to address: SocketAddress, tls: TLSContext? = nil,
        timeout: Duration = .seconds(30)
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        if let tls, tls.configuration.role != .client {
            throw HTTPClientError(
                .invalidRequest,
                "the TLS context was built for a server; build it from "
                    + "TLSConfiguration.makeClientConfigurationWithMTLS (or role: .client)")
        }
        let bytes = try request.encoded(host: HTTPClient.host(for: address, tls: tls))
        let exchange = HTTPClientExchange(
            loop: group.next(), address: address, tls: tls, timeout: timeout, limits: limits,
            method: request.method, request: bytes)
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation {
                (continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>) in
                exchange.run { continuation.resume(returning: $0) }
            }
        } onCancel: {
            exchange.cancel()
        }
        return try result.get()
    }

    /// The Host header: the TLS server name when there is one, else the address.
    static func host(for address: SocketAddress, tls: TLSContext?) -> String {
        if let name = tls?.configuration.serverName {
            if let port = address.port, port != 443 { return "\(name):\(port)" }
            return name
        }
        if address.isUnix { return "localhost" }
        return address.description
    }
}
