/// A timer scheduled with `EventLoop.schedule(after:_:)`; keep it to cancel the timer.
///
/// Loop-confined: call `cancel()` on the timer's loop thread only.
public final class TimerHandle {
    /// When the timer is due, on the loop's monotonic clock.
    let deadline: UInt64
    /// Breaks deadline ties so timers due at the same instant fire in the order they were scheduled.
    let sequence: UInt64
    var body: (() -> Void)?
    /// Position in the loop's heap; -1 once fired or cancelled.
    var heapIndex = -1
    weak var loop: EventLoop?

    init(deadline: UInt64, sequence: UInt64, loop: EventLoop, body: @escaping () -> Void) {
        self.deadline = deadline
        self.sequence = sequence
        self.loop = loop
        self.body = body
    }

    /// Whether the timer is still waiting to fire.
    public var isPending: Bool { heapIndex >= 0 }

    /// Stops the timer from firing and releases its closure. Does nothing if it already fired or was cancelled.
    /// Loop thread only. O(log n) in the number of pending timers.
    public func cancel() {
        if heapIndex >= 0, let loop {
            loop.timers.remove(self)
        }
        body = nil
    }

    func isEarlier(than other: TimerHandle) -> Bool {
        deadline != other.deadline ? deadline < other.deadline : sequence < other.sequence
    }
}
