/// A binary min-heap of timers by deadline. Each timer knows its index, so cancelling removes it at once rather
/// than leaving a tombstone: idle timeouts that are re-armed on every read would otherwise pile up.
struct TimerHeap {
    private var items: [TimerHandle] = []

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    var first: TimerHandle? { items.first }

    mutating func insert(_ timer: TimerHandle) {
        timer.heapIndex = items.count
        items.append(timer)
        siftUp(items.count - 1)
    }

    /// Removes and returns the earliest timer.
    mutating func popFirst() -> TimerHandle? {
        guard let first = items.first else { return nil }
        remove(first)
        return first
    }

    mutating func remove(_ timer: TimerHandle) {
        let index = timer.heapIndex
        guard index >= 0, index < items.count, items[index] === timer else { return }
        let last = items.count - 1
        if index != last {
            items.swapAt(index, last)
            items[index].heapIndex = index
        }
        items.removeLast()
        timer.heapIndex = -1
        if index < items.count {
            siftDown(index)
            siftUp(index)
        }
    }

    /// Empties the heap, returning the timers in no particular order.
    mutating func removeAll() -> [TimerHandle] {
        let all = items
        items.removeAll()
        for timer in all { timer.heapIndex = -1 }
        return all
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].isEarlier(than: items[parent]) else { break }
            swapItems(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < items.count else { break }
            var smallest = left
            let right = left + 1
            if right < items.count, items[right].isEarlier(than: items[left]) { smallest = right }
            guard items[smallest].isEarlier(than: items[parent]) else { break }
            swapItems(smallest, parent)
            parent = smallest
        }
    }

    private mutating func swapItems(_ a: Int, _ b: Int) {
        items.swapAt(a, b)
        items[a].heapIndex = a
        items[b].heapIndex = b
    }
}
