import TLS

/// A proxied connection the server can reach after accepting it: to re-check its peer after a reload.
protocol ProxiedConnection: AnyObject {
    /// Closes the connection when its authenticated peer is no longer accepted by `verifier` (a new CRL or bundle).
    func recheck(with verifier: PeerVerifier)
}

/// The open connections of one event loop. Touched only on that loop's thread, so it needs no lock; the proxy
/// reaches it through `EventLoop.execute`.
final class ConnectionRegistry: @unchecked Sendable {
    // @unchecked: only ever used on the thread of the event loop it belongs to (see ProxyServer).
    private(set) var connections: [ObjectIdentifier: any ProxiedConnection] = [:]
    /// This loop's pending log lines.
    let logBatch: LogBatch

    init(logBatch: LogBatch) { self.logBatch = logBatch }

    func add(_ connection: any ProxiedConnection) { connections[ObjectIdentifier(connection)] = connection }
    func remove(_ connection: any ProxiedConnection) { connections.removeValue(forKey: ObjectIdentifier(connection)) }
}
