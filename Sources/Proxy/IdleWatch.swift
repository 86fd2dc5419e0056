import NetCore

/// Closes a connection that makes no progress: one timer per connection at a quarter of the current limit, not one
/// per byte. Progress is a byte read (`touch()`) or bytes leaving a write queue (`pending` changing), so a slow
/// reader is not an idle one. Loop-confined, owned by its connection.
final class IdleWatch {
    private let loop: EventLoop
    /// The current limit; a connection may shorten it (a half-closed TCP connection's linger).
    private let limit: () -> Duration
    /// Bytes queued for writing on the connection's sides.
    private let pending: () -> Int
    /// Called once when `limit` passed without progress, with that limit.
    private let expired: (Duration) -> Void
    private var lastActivity: UInt64 = 0
    private var pendingAtLastCheck = 0
    private var timer: TimerHandle?

    /// The closures are called on the loop; they should hold their connection weakly.
    init(
        loop: EventLoop, limit: @escaping () -> Duration, pending: @escaping () -> Int,
        expired: @escaping (Duration) -> Void
    ) {
        self.loop = loop
        self.limit = limit
        self.pending = pending
        self.expired = expired
    }

    var isRunning: Bool { timer != nil }

    /// Starts watching from now.
    func start() {
        lastActivity = loop.nowNanoseconds()
        schedule()
    }

    /// Progress: bytes were read.
    func touch() { lastActivity = loop.nowNanoseconds() }

    /// The limit changed: the next check comes at a quarter of the new one.
    func limitChanged() {
        guard let timer else { return }
        timer.cancel()
        schedule()
    }

    func stop() {
        timer?.cancel()
        timer = nil
    }

    private func schedule() {
        timer = loop.schedule(after: limit() / 4) { [weak self] in self?.check() }
    }

    private func check() {
        let queued = pending()
        if queued != pendingAtLastCheck {
            pendingAtLastCheck = queued
            lastActivity = loop.nowNanoseconds()
        }
        let current = limit()
        guard Double(loop.nowNanoseconds() &- lastActivity) / 1e9 >= current.seconds else {
            schedule()
            return
        }
        timer = nil
        expired(current)
    }
}
