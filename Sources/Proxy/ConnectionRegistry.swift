/// The open connections of one event loop. Touched only on that loop's thread, so it needs no lock; the proxy
/// reaches it through `EventLoop.execute`.
final class ConnectionRegistry: @unchecked Sendable {
    // @unchecked: only ever used on the thread of the event loop it belongs to (see ProxyServer).
    private(set) var connections: [ObjectIdentifier: ProxyConnection] = [:]

    func add(_ connection: ProxyConnection) { connections[ObjectIdentifier(connection)] = connection }
    func remove(_ connection: ProxyConnection) { connections.removeValue(forKey: ObjectIdentifier(connection)) }
}
