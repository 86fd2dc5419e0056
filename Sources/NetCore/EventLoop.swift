internal import CShims
internal import Glibc
import Synchronization

/// Something registered with an event loop's epoll instance: a channel or a listening socket.
protocol Selectable: AnyObject {
    /// epoll reported `events` for this registration. Called on the loop thread.
    func handleEvents(_ events: UInt32)
    /// The loop stopped: release the descriptor and tell whoever waits. Called on the loop thread, once.
    func loopDidShutDown()
}

/// One epoll event loop, run by one thread.
///
/// Everything registered on a loop — channels, listeners, timers — is touched only by the loop's thread, so none of
/// it needs locks. Other threads talk to a loop through `execute(_:)` and `stop()`, which are thread-safe.
///
/// epoll is used **level-triggered**: a descriptor stays reported while it is readable (or, when we asked, writable),
/// so a bounded read per wakeup is fair and cannot lose an edge. Interest is narrowed instead: EPOLLOUT only while
/// writes are queued, EPOLLIN only while reading is wanted.
///
/// Each loop owns one 64 KiB read buffer shared by all of its channels: a channel reads into it and hands the bytes
/// to its handler synchronously, so idle connections cost no buffer memory.
///
/// `@unchecked Sendable`: mutable state is confined to the loop's thread; the cross-thread parts (task queue, stop
/// flag, thread identity) are a Mutex and Atomics.
public final class EventLoop: @unchecked Sendable {
    /// Size of the per-loop read buffer.
    static let scratchSize = 64 * 1024
    /// The most epoll events handled per wakeup.
    static let eventCapacity: Int32 = 256
    /// The most buffers gathered into one sendmsg.
    static let vectorCapacity = 64

    private let epollFD: Int32
    private let wakeFD: Int32
    private static let wakeID: UInt64 = 0

    private let events: UnsafeMutablePointer<epoll_event>
    /// The shared read buffer; valid for the duration of a handler's `didRead` only.
    let scratch: UnsafeMutableRawBufferPointer
    /// Shared iovec array for gathered writes.
    let vectors: UnsafeMutablePointer<iovec>
    /// Shared peer-address buffer for accept.
    let peerStorage: UnsafeMutablePointer<sockaddr_storage>

    private var registrations: [UInt64: any Selectable] = [:]
    private var nextRegistrationID: UInt64 = 1

    var timers = TimerHeap()
    private var timerSequence: UInt64 = 0

    private let tasks = Mutex<[@Sendable () -> Void]>([])
    private var runningTasks: [@Sendable () -> Void] = []
    /// Loop-confined work queued by the loop itself (deferred closes), run after the current events.
    private var deferred: [() -> Void] = []
    /// Loop-confined: work for the end of the current iteration (see `runAtEndOfIteration`).
    private var endOfIteration: [() -> Void] = []

    private let stopRequested = Atomic<Bool>(false)
    private let wakeupPending = Atomic<Bool>(false)
    private let thread = Atomic<UInt>(0)

    /// Creates a loop with its epoll instance and wakeup eventfd. Call `run()` on the thread that should own it,
    /// or let an `EventLoopGroup` do that.
    /// - Throws: `NetError` if the kernel refuses epoll or eventfd (usually: out of file descriptors).
    public init() throws {
        epollFD = try Syscall.epollCreate()
        do {
            wakeFD = try Syscall.eventCreate()
        } catch {
            Syscall.close(epollFD)
            throw error
        }
        events = .allocate(capacity: Int(Self.eventCapacity))
        scratch = .allocate(byteCount: Self.scratchSize, alignment: 16)
        vectors = .allocate(capacity: Self.vectorCapacity)
        peerStorage = .allocate(capacity: 1)
        do {
            try Syscall.epollControl(
                epollFD, EPOLL_CTL_ADD, fd: wakeFD, events: EPOLLIN.rawValue, id: Self.wakeID)
        } catch {
            release()
            throw error
        }
    }

    deinit { release() }

    private func release() {
        Syscall.close(wakeFD)
        Syscall.close(epollFD)
        events.deallocate()
        scratch.deallocate()
        vectors.deallocate()
        peerStorage.deallocate()
    }

    // MARK: Threads

    /// Whether the caller is running on this loop's thread.
    public var inEventLoop: Bool { thread.load(ordering: .acquiring) == UInt(pthread_self()) }

    /// Whether `run()` has started and not yet returned.
    var isRunning: Bool { thread.load(ordering: .acquiring) != 0 }

    /// Runs the loop on the calling thread until `stop()`. On return every channel and listener still registered
    /// has been closed (handlers see `channelDidClose` with `.loopShutDown`) and pending timers are dropped.
    /// A loop runs once: after `stop()` a later `run()` returns immediately.
    public func run() {
        thread.store(UInt(pthread_self()), ordering: .releasing)
        while !stopRequested.load(ordering: .acquiring) {
            let timeout = nextTimeout()
            let count: Int
            do {
                count = try Syscall.epollWait(epollFD, events, capacity: Self.eventCapacity, timeout: timeout)
            } catch {
                // epoll_wait only fails on programming errors (bad descriptor); a loop cannot continue after one.
                preconditionFailure("\(error)")
            }
            for index in 0..<count {
                let event = events[index]
                let id = event.data.u64
                if id == Self.wakeID {
                    Syscall.eventDrain(wakeFD)
                } else if let registration = registrations[id] {
                    registration.handleEvents(event.events)
                }
            }
            runDueTimers()
            runTasks()
            runEndOfIteration()
        }
        runTasks()
        shutDownRegistrations()
        runEndOfIteration()  // what the closes produced (their log lines) still goes out
        thread.store(0, ordering: .releasing)
    }

    /// Asks the loop to return from `run()` after the current iteration. Thread-safe; does not wait.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        wake()
    }

    /// Runs `work` on the loop thread, after the events of the current iteration. Thread-safe; wakes the loop
    /// through its eventfd when called from elsewhere. Work queued after the loop stopped never runs.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        tasks.withLock { $0.append(work) }
        if !inEventLoop { wake() }
    }

    private func wake() {
        if !wakeupPending.exchange(true, ordering: .acquiringAndReleasing) {
            Syscall.eventSignal(wakeFD)
        }
    }

    /// Runs `work` once the events, timers and tasks of the current iteration are done, before the loop sleeps
    /// again: for work that batches what the iteration produced (log lines). Loop thread only.
    public func runAtEndOfIteration(_ work: @escaping () -> Void) {
        endOfIteration.append(work)
    }

    /// Queues loop-confined work for after the current event, so a failure found inside a handler's call is not
    /// reported back into that same call. Loop thread only.
    func runSoon(_ work: @escaping () -> Void) {
        deferred.append(work)
    }

    private func runEndOfIteration() {
        while !endOfIteration.isEmpty {
            let work = endOfIteration
            endOfIteration.removeAll()
            for item in work { item() }
        }
    }

    private func runTasks() {
        // Reset before draining: an execute() that lands after the drain sees `false` and wakes us again.
        wakeupPending.store(false, ordering: .releasing)
        tasks.withLock { swap(&$0, &runningTasks) }
        for task in runningTasks { task() }
        runningTasks.removeAll(keepingCapacity: true)
        while !deferred.isEmpty {
            let work = deferred
            deferred.removeAll()
            for item in work { item() }
        }
    }

    // MARK: Timers

    /// The loop's monotonic clock (CLOCK_MONOTONIC) in nanoseconds.
    public func nowNanoseconds() -> UInt64 { Syscall.monotonicNanoseconds() }

    /// Runs `body` on the loop once `delay` has passed. Timers due at the same instant fire in scheduling order.
    /// Loop thread only (or before the loop runs). The loop sleeps in epoll_wait until the earliest deadline,
    /// with millisecond resolution, never firing early.
    @discardableResult
    public func schedule(after delay: Duration, _ body: @escaping () -> Void) -> TimerHandle {
        assert(inEventLoop || !isRunning, "EventLoop.schedule must be called on the loop thread")
        let (seconds, attoseconds) = delay.components
        var nanoseconds: UInt64 = 0
        if seconds > 0 || (seconds == 0 && attoseconds > 0) {
            let whole = seconds > Int64(UInt64.max / 1_000_000_000) ? UInt64.max / 2 : UInt64(seconds) * 1_000_000_000
            nanoseconds = whole + UInt64(max(0, attoseconds) / 1_000_000_000)
        }
        let (deadline, overflow) = nowNanoseconds().addingReportingOverflow(nanoseconds)
        timerSequence += 1
        let timer = TimerHandle(
            deadline: overflow ? UInt64.max : deadline, sequence: timerSequence, loop: self, body: body)
        timers.insert(timer)
        return timer
    }

    /// Milliseconds until the earliest timer (rounded up), 0 when work is waiting, -1 for none.
    private func nextTimeout() -> Int32 {
        if !deferred.isEmpty || tasks.withLock({ !$0.isEmpty }) { return 0 }
        guard let first = timers.first else { return -1 }
        let now = nowNanoseconds()
        guard first.deadline > now else { return 0 }
        let milliseconds = (first.deadline - now + 999_999) / 1_000_000
        return Int32(min(milliseconds, UInt64(Int32.max)))
    }

    private func runDueTimers() {
        guard !timers.isEmpty else { return }
        let now = nowNanoseconds()
        while let first = timers.first, first.deadline <= now {
            _ = timers.popFirst()
            let body = first.body
            first.body = nil
            body?()
        }
    }

    // MARK: Registrations

    /// Adds `registration` to the loop's table and returns the id its epoll events carry. Loop thread only.
    /// Ids are never reused, so an event still queued for a closed descriptor cannot reach a new one that got the
    /// same descriptor number.
    func register(_ registration: any Selectable) -> UInt64 {
        let id = nextRegistrationID
        nextRegistrationID += 1
        registrations[id] = registration
        return id
    }

    /// Removes `id` from the table. Loop thread only.
    func deregister(_ id: UInt64) {
        registrations[id] = nil
    }

    /// Sets the epoll interest of `fd`. Thread-safe (epoll_ctl is), but the registration table is not.
    func epollControl(_ operation: Int32, fd: Int32, events: UInt32, id: UInt64) throws(NetError) {
        try Syscall.epollControl(epollFD, operation, fd: fd, events: events, id: id)
    }

    private func shutDownRegistrations() {
        let all = registrations.values
        registrations.removeAll()
        for registration in all { registration.loopDidShutDown() }
        for timer in timers.removeAll() { timer.body = nil }
        deferred.removeAll()
    }
}
