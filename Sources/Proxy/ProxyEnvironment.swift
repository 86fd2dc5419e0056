import Synchronization

/// What every connection of one proxy shares: its configuration, its logger, the current credentials (swapped
/// whole by a reload), and the count of open connections (so a drain knows when it is done).
final class ProxyEnvironment: Sendable {
    let configuration: ProxyConfiguration
    let logger: ConnectionLogger
    private let current: Mutex<ProxyCredentials>
    private let open = Atomic<Int>(0)

    init(configuration: ProxyConfiguration, logger: ConnectionLogger, credentials: ProxyCredentials) {
        self.configuration = configuration
        self.logger = logger
        self.current = Mutex(credentials)
    }

    /// The credentials new connections (and, in HTTP mode, new requests) use.
    var credentials: ProxyCredentials {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    func connectionStarted() { open.add(1, ordering: .relaxed) }
    func connectionEnded() { open.subtract(1, ordering: .relaxed) }
    var openConnections: Int { open.load(ordering: .relaxed) }
}
