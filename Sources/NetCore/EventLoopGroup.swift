internal import CShims
internal import Glibc
import Synchronization

/// A fixed set of event loops, one per thread; by default one per processor.
///
/// Sendable without `@unchecked`: `loops` is immutable, the round-robin counter is atomic, and the thread handles
/// are guarded by a Mutex, so the compiler can check it.
public final class EventLoopGroup: Sendable {
    /// The loops, in a fixed order. `loops[0]` owns unix-domain listening sockets.
    public let loops: [EventLoop]

    private let counter = Atomic<Int>(0)
    private let threads = Mutex<[pthread_t]?>(nil)
    private let stopped = Atomic<Bool>(false)

    /// Creates `loopCount` loops (at least one). Threads start with `start()`.
    /// - Throws: `NetError` if a loop cannot get its epoll or eventfd descriptor.
    public init(loopCount: Int = EventLoopGroup.activeProcessorCount) throws {
        var loops: [EventLoop] = []
        for _ in 0..<max(1, loopCount) { loops.append(try EventLoop()) }
        self.loops = loops
    }

    /// The number of processors online (`sysconf(_SC_NPROCESSORS_ONLN)`), at least 1.
    public static var activeProcessorCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Starts one thread per loop, named `netcore-N`, each running its loop until `shutdown()`. Calling it again
    /// does nothing.
    public func start() {
        threads.withLock { threads in
            guard threads == nil else { return }
            var started: [pthread_t] = []
            for (index, loop) in loops.enumerated() {
                let box = Unmanaged.passRetained(ThreadBody(name: "netcore-\(index)") { loop.run() })
                var thread = pthread_t()
                let status = pthread_create(
                    &thread, nil,
                    { raw in
                        let body = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
                        _ = symbolon_pthread_setname_np(pthread_self(), body.name)
                        body.run()
                        return nil
                    }, box.toOpaque())
                precondition(status == 0, "pthread_create failed with errno \(status)")
                started.append(thread)
            }
            threads = started
        }
    }

    /// The next loop in round-robin order. Thread-safe.
    public func next() -> EventLoop {
        let index = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[Int(UInt(bitPattern: index) % UInt(loops.count))]
    }

    /// Stops every loop and waits for their threads to finish. Channels still open are closed with
    /// `.loopShutDown`. Must not be called from one of the group's own loops (it would wait for itself).
    /// Idempotent.
    public func shutdown() {
        precondition(!loops.contains { $0.inEventLoop }, "EventLoopGroup.shutdown() called on one of its own loops")
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for loop in loops { loop.stop() }
        let joined = threads.withLock { threads in
            defer { threads = [] }
            return threads ?? []
        }
        for thread in joined { pthread_join(thread, nil) }
    }
}

/// What a loop thread runs, boxed to cross pthread_create's `void *`.
private final class ThreadBody {
    let name: String
    let run: () -> Void
    init(name: String, run: @escaping () -> Void) {
        self.name = name
        self.run = run
    }
}
