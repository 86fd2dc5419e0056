import NetCore
import Synchronization

/// What every connection of one server shares: the configuration, the handler, the open connections (for a
/// graceful shutdown) and whether the server is draining.
///
/// Sendable: the configuration and handler are immutable; the registry and the flag are a Mutex and an Atomic.
final class HTTPServerCore: Sendable {
    let configuration: HTTPServerConfiguration
    let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void
    private let connections = Mutex<[ObjectIdentifier: ConnectionHandle]>([:])
    private let draining = Atomic<Bool>(false)
    /// Signalled when the last connection of a draining server closed.
    private let drained = Atomic<Bool>(false)

    init(configuration: HTTPServerConfiguration, handler: @escaping @Sendable (HTTPRequest, HTTPResponder) -> Void) {
        self.configuration = configuration
        self.handler = handler
    }

    var isDraining: Bool { draining.load(ordering: .acquiring) }

    /// Adds an accepted connection; false once the server drains (the caller closes it).
    func register(_ connection: HTTPServerConnection) -> Bool {
        connections.withLock { connections in
            guard !isDraining else { return false }
            connections[ObjectIdentifier(connection)] = ConnectionHandle(connection)
            return true
        }
    }

    func deregister(_ connection: HTTPServerConnection) {
        connections.withLock { connections in
            connections[ObjectIdentifier(connection)] = nil
            if connections.isEmpty, isDraining { drained.store(true, ordering: .releasing) }
        }
    }

    var openConnections: Int { connections.withLock { $0.count } }

    /// Stops admitting connections and asks each open one, on its loop, to finish what it is doing and close.
    func startDraining() {
        let open = connections.withLock { connections in
            draining.store(true, ordering: .releasing)
            if connections.isEmpty { drained.store(true, ordering: .releasing) }
            return Array(connections.values)
        }
        for handle in open { handle.loop.execute { handle.connection.drain() } }
    }

    /// Whether every connection closed since draining began.
    var isDrained: Bool { drained.load(ordering: .acquiring) }

    /// Closes every connection still open, on its loop (after the grace period).
    func closeAll() {
        let open = connections.withLock { Array($0.values) }
        for handle in open { handle.loop.execute { handle.connection.close() } }
    }
}

/// A connection and its loop, kept in the registry.
///
/// `@unchecked Sendable`: the connection is loop-confined; the registry only stores it, and it is touched inside
/// `EventLoop.execute` on `loop` only.
final class ConnectionHandle: @unchecked Sendable {
    let loop: EventLoop
    let connection: HTTPServerConnection
    init(_ connection: HTTPServerConnection) {
        self.loop = connection.loop
        self.connection = connection
    }
}
