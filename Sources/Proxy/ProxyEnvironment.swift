import Synchronization

/// What every connection of one proxy shares: its configuration, its logger, and the count of open connections
/// (so a drain knows when it is done).
final class ProxyEnvironment: Sendable {
    let configuration: ProxyConfiguration
    let logger: ConnectionLogger
    private let open = Atomic<Int>(0)

    init(configuration: ProxyConfiguration, logger: ConnectionLogger) {
        self.configuration = configuration
        self.logger = logger
    }

    func connectionStarted() { open.add(1, ordering: .relaxed) }
    func connectionEnded() { open.subtract(1, ordering: .relaxed) }
    var openConnections: Int { open.load(ordering: .relaxed) }
}
