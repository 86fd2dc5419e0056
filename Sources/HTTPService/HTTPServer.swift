internal import Glibc
import HTTP1
import NetCore
import Synchronization
import TLS

/// A small, strict HTTP/1.1 server: plaintext or TLS (with the client's verified identity on each request), one
/// request at a time per connection, each handed whole to your handler.
///
/// ```swift
/// let context = try TLSContext(configuration: .makeServerConfigurationWithMTLS(
///     certificateChain: [leaf, intermediate], privateKey: key, trustBundle: [root]))
/// let server = try HTTPServer(configuration: HTTPServerConfiguration(tls: context)) { request, responder in
///     guard let id = request.peer?.spiffeID else { return responder.respond(HTTPResponse(status: 403, text: "who?")) }
///     responder.respond(HTTPResponse(text: "hello \(id)"))
/// }
/// let bound = try server.listen(on: try SocketAddress.parse("127.0.0.1:8443"))
/// ```
///
/// Per connection: keep-alive; pipelined requests answered in order, one at a time; `Expect: 100-continue`
/// answered before the body is read; a malformed request answered with the parser's status (400, 413, 414, 431,
/// 505) and `Connection: close`, then closed; every wait bounded (`HTTPServerConfiguration`).
///
/// The handler runs on an event loop thread: never block in it. Respond at once, or hand the work to your own
/// thread or task and call `responder.respond(_:)` from there when done.
public final class HTTPServer: Sendable {
    /// The loops connections run on.
    public let group: EventLoopGroup
    private let ownsGroup: Bool
    private let core: HTTPServerCore
    private let listeners = Mutex<[Listener]>([])
    private let stopped = Atomic<Bool>(false)

    /// A server with `configuration` whose requests go to `handler`. With `group` nil it starts its own loops
    /// (`threads`, 0 for one per core) and stops them in `shutdown()`; a given group is started if it was not, and
    /// left running.
    /// - Throws: `TLSError(.invalidConfiguration)` for a client-side TLS context; `NetError` if loops cannot start.
    public init(
        configuration: HTTPServerConfiguration = HTTPServerConfiguration(), group: EventLoopGroup? = nil,
        threads: Int = 0, handler: @escaping @Sendable (HTTPRequest, HTTPResponder) -> Void
    ) throws {
        if let tls = configuration.tls, tls.configuration.role != .server {
            throw TLSError(
                .invalidConfiguration,
                "the server's TLS context was built for a client; build it from "
                    + "TLSConfiguration.makeServerConfigurationWithMTLS (or role: .server)")
        }
        core = HTTPServerCore(configuration: configuration, handler: handler)
        if let group {
            self.group = group
            ownsGroup = false
        } else {
            self.group = try EventLoopGroup(loopCount: threads > 0 ? threads : EventLoopGroup.activeProcessorCount)
            ownsGroup = true
        }
        self.group.start()
    }

    /// The configuration served.
    public var configuration: HTTPServerConfiguration { core.configuration }

    /// Accepts connections on `address` (call it again for more addresses). Returns the bound address: port 0
    /// becomes the port the kernel chose.
    /// - Throws: `NetError` (`.addressInUse`, `.permissionDenied` …), or `.loopShutDown` after `shutdown()`.
    @discardableResult
    public func listen(on address: SocketAddress) throws -> SocketAddress {
        guard !stopped.load(ordering: .acquiring) else {
            throw NetError(.loopShutDown, operation: "listen", reason: "the server was shut down; create a new one")
        }
        let core = self.core
        let listener = try Listener.bind(address, group: group) { channel in
            HTTPServerConnection.accept(channel, core: core)
        }
        listeners.withLock { $0.append(listener) }
        return listener.localAddress
    }

    /// Connections open now.
    public var openConnections: Int { core.openConnections }

    /// Stops gracefully: stops accepting, closes idle connections, lets each connection in the middle of a request
    /// finish it (answered with `Connection: close`), and waits up to `gracePeriod` for them; what is still open
    /// then is closed. Then stops the server's own loops (a given group keeps running).
    ///
    /// Blocks the calling thread for at most `gracePeriod`; call it from outside the group's loops (from one of
    /// them it does not wait). Idempotent.
    public func shutdown(gracePeriod: Duration = .seconds(10)) {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        listeners.withLock { listeners in
            for listener in listeners { listener.close() }
            listeners = []
        }
        core.startDraining()
        let onOwnLoop = group.loops.contains { $0.inEventLoop }
        if !onOwnLoop {
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: gracePeriod)
            while !core.isDrained, clock.now < deadline { usleep(2_000) }
        }
        if ownsGroup, !onOwnLoop {
            group.shutdown()  // closes whatever is left
        } else {
            core.closeAll()
        }
    }
}
