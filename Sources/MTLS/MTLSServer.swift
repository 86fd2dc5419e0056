import NetCore
import Synchronization
import TLS

/// The library for a service that terminates mTLS itself (the end-to-end pattern): listen, let Symbolon's TLS
/// engine verify every client (our verifier, cached; revocation; your authorizer), and get each admitted
/// connection with its verified identity.
///
/// ```swift
/// let server = try MTLSServer(configuration: .makeServerConfigurationWithMTLS(
///     certificateChain: chain, privateKey: key, trustBundle: [root]))
/// try server.listen(on: .parse("127.0.0.1:8443")) { connection in
///     connection.write("hello \(connection.peer)\n")
///     connection.onRead = { connection, bytes in connection.write(Array(bytes)) }
/// }
/// ```
/// Handlers run on the event loop threads (one per core by default); never block in them.
public final class MTLSServer: Sendable {
    let group: EventLoopGroup
    let handshakeTimeout: Duration
    private let context: Mutex<TLSContext>
    private let listeners = Mutex<[Listener]>([])
    /// Clients refused in the handshake, with why; for logging. Called on a loop thread.
    let onRefusal: (@Sendable (SocketAddress?, any Error) -> Void)?

    /// Builds the TLS context (once) and starts `threads` event loops (0: one per core).
    public init(
        configuration: TLSConfiguration, authorizer: PeerAuthorizer? = nil, handshakeTimeout: Duration = .seconds(10),
        threads: Int = 0, onRefusal: (@Sendable (SocketAddress?, any Error) -> Void)? = nil
    ) throws {
        context = Mutex(try TLSContext(configuration: configuration, authorizer: authorizer))
        self.handshakeTimeout = handshakeTimeout
        self.onRefusal = onRefusal
        group = try EventLoopGroup(loopCount: threads > 0 ? threads : EventLoopGroup.activeProcessorCount)
        NetCore.ignoreSIGPIPE()
        group.start()
    }

    /// Accepts connections on `address`; `handler` gets each one after its handshake and admission. Returns the
    /// bound address (port 0 becomes the real port).
    @discardableResult
    public func listen(on address: SocketAddress, _ handler: @escaping @Sendable (MTLSConnection) -> Void) throws
        -> SocketAddress
    {
        let listener = try Listener.bind(address, group: group) { [self] transport in
            let context = self.context.withLock { $0 }
            let acceptor = Acceptor(handler: handler, onRefusal: onRefusal)
            do {
                _ = try TLSChannel(
                    transport: transport, context: context, handshakeTimeout: handshakeTimeout, delegate: acceptor)
            } catch {
                transport.close()
            }
        }
        listeners.withLock { $0.append(listener) }
        return listener.localAddress
    }

    /// Uses a new configuration (certificate, key, bundle, CRLs) for new connections; open ones keep theirs.
    /// Resumption tickets stay valid.
    public func reload(configuration: TLSConfiguration, authorizer: PeerAuthorizer? = nil) throws {
        let old = context.withLock { $0 }
        let next = try TLSContext(configuration: configuration, authorizer: authorizer, ticketKey: old.ticketKey)
        context.withLock { $0 = next }
    }

    /// Stops listening and stops the event loops (open connections are dropped).
    public func shutdown() {
        listeners.withLock { listeners in
            for listener in listeners { listener.close() }
            listeners = []
        }
        group.shutdown()
    }

    /// Holds a connection until its handshake completes, then hands it to the user's handler.
    private final class Acceptor: TLSChannelDelegate {
        let handler: (MTLSConnection) -> Void
        let onRefusal: ((SocketAddress?, any Error) -> Void)?
        init(handler: @escaping (MTLSConnection) -> Void, onRefusal: ((SocketAddress?, any Error) -> Void)?) {
            self.handler = handler
            self.onRefusal = onRefusal
        }

        func tlsChannelDidHandshake(_ channel: TLSChannel) {
            let connection = MTLSConnection(channel: channel)
            channel.delegate = connection
            handler(connection)
        }
        func tlsChannel(_ channel: TLSChannel, didRead bytes: UnsafeRawBufferPointer) {}
        func tlsChannelDidReadEOF(_ channel: TLSChannel) {}
        func tlsChannelWritabilityChanged(_ channel: TLSChannel) {}
        func tlsChannelDidClose(_ channel: TLSChannel, error: (any Error)?) {
            if let error { onRefusal?(channel.transport.remoteAddress, error) }
        }
    }
}
