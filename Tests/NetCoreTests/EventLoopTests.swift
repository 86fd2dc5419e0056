import Dispatch
import Synchronization
import Testing

@testable import NetCore

@Suite("Event loops")
struct EventLoopTests {
    @Test("timers fire in deadline order, ties in scheduling order, and a cancelled timer never fires")
    func timersInOrder() throws {
        try withGroup { group in
            let loop = group.loops[0]
            let fired = Mutex<[String]>([])
            let done = Signal()
            try onLoop(loop) {
                func record(_ name: String) { fired.withLock { $0.append(name) } }
                loop.schedule(after: .milliseconds(30)) {
                    record("30ms")
                    done.fire()
                }
                loop.schedule(after: .milliseconds(10)) { record("10ms") }
                loop.schedule(after: .milliseconds(20)) { record("20ms-a") }
                let cancelled = loop.schedule(after: .milliseconds(15)) { record("cancelled") }
                loop.schedule(after: .milliseconds(20)) { record("20ms-b") }
                loop.schedule(after: .zero) { record("now") }
                #expect(cancelled.isPending)
                cancelled.cancel()
                #expect(!cancelled.isPending)
            }
            #expect(done.wait())
            #expect(fired.withLock { $0 } == ["now", "10ms", "20ms-a", "20ms-b", "30ms"])
        }
    }

    @Test("a timer fires no earlier than its delay on the loop's monotonic clock")
    func timerNotEarly() throws {
        try withGroup { group in
            let loop = group.loops[0]
            let elapsed = Mutex<UInt64>(0)
            let done = Signal()
            try onLoop(loop) {
                let start = loop.nowNanoseconds()
                loop.schedule(after: .milliseconds(25)) {
                    elapsed.withLock { $0 = loop.nowNanoseconds() - start }
                    done.fire()
                }
            }
            #expect(done.wait())
            #expect(elapsed.withLock { $0 } >= 25_000_000)
        }
    }

    @Test("many timers scheduled and cancelled at random leave exactly the survivors to fire, by deadline")
    func heapUnderChurn() throws {
        try withGroup { group in
            let loop = group.loops[0]
            let fired = Mutex<[Int]>([])
            let done = Signal()
            let (survivors, deadlines) = try onLoop(loop) { () -> (Set<Int>, [UInt64]) in
                var handles: [TimerHandle] = []
                for index in 0..<500 {
                    let delay = Duration.milliseconds(Int.random(in: 1...40))
                    handles.append(loop.schedule(after: delay) { fired.withLock { $0.append(index) } })
                }
                var survivors = Set<Int>()
                for (index, handle) in handles.enumerated() {
                    if index % 3 == 0 { handle.cancel() } else { survivors.insert(index) }
                }
                loop.schedule(after: .milliseconds(60)) { done.fire() }
                return (survivors, handles.map(\.deadline))
            }
            #expect(done.wait())
            let order = fired.withLock { $0 }
            #expect(order.count == survivors.count)
            #expect(Set(order) == survivors)
            // Equal deadlines fire in scheduling order, so (deadline, index) never decreases.
            #expect(zip(order, order.dropFirst()).allSatisfy { (deadlines[$0], $0) < (deadlines[$1], $1) })
        }
    }

    @Test("work sent with execute from other threads runs on the loop thread, every item once")
    func executeFromOtherThreads() throws {
        try withGroup { group in
            let loop = group.loops[0]
            #expect(!loop.inEventLoop)
            let count = Mutex(0)
            let offLoop = Mutex(0)
            let done = Signal()
            let total = 4 * 500
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                for _ in 0..<500 {
                    loop.execute {
                        if !loop.inEventLoop { offLoop.withLock { $0 += 1 } }
                        if count.withLock({
                            $0 += 1
                            return $0
                        }) == total {
                            done.fire()
                        }
                    }
                }
            }
            #expect(done.wait())
            #expect(count.withLock { $0 } == total)
            #expect(offLoop.withLock { $0 } == 0)
        }
    }

    @Test("round robin visits every loop, and shutdown joins the threads")
    func groupRoundRobin() throws {
        let group = try EventLoopGroup(loopCount: 3)
        group.start()
        let picked = (0..<6).map { _ in ObjectIdentifier(group.next()) }
        #expect(Set(picked).count == 3)
        #expect(picked[0] == picked[3])
        let ran = Signal()
        group.loops[2].execute { ran.fire() }
        #expect(ran.wait())
        group.shutdown()
        group.shutdown()
    }
}
