internal import Glibc

/// Bytes the kernel did not take yet, in order, in owned chunks. Small writes are appended into the last chunk's
/// spare room, so a stream of tiny writes does not become a stream of tiny allocations or iovecs.
struct WriteQueue {
    struct Chunk {
        let base: UnsafeMutableRawPointer
        let capacity: Int
        var start: Int
        var end: Int
        var count: Int { end - start }
    }

    /// The smallest chunk allocated; larger writes get a chunk of their own size.
    static let minimumChunk = 8 * 1024

    private var chunks: [Chunk] = []
    private var head = 0
    /// Total bytes queued.
    private(set) var byteCount = 0

    var isEmpty: Bool { byteCount == 0 }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        var copied = 0
        if chunks.count > head {
            let last = chunks.count - 1
            let room = chunks[last].capacity - chunks[last].end
            if room > 0 {
                copied = min(room, bytes.count)
                (chunks[last].base + chunks[last].end).copyMemory(from: source, byteCount: copied)
                chunks[last].end += copied
            }
        }
        let remaining = bytes.count - copied
        if remaining > 0 {
            let capacity = max(remaining, Self.minimumChunk)
            let base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 1)
            base.copyMemory(from: source + copied, byteCount: remaining)
            chunks.append(Chunk(base: base, capacity: capacity, start: 0, end: remaining))
        }
        byteCount += bytes.count
    }

    /// Fills `vectors` with up to `capacity` chunks from the front; returns how many.
    func fill(_ vectors: UnsafeMutablePointer<iovec>, capacity: Int) -> Int {
        var filled = 0
        var index = head
        while index < chunks.count, filled < capacity {
            let chunk = chunks[index]
            vectors[filled] = iovec(iov_base: chunk.base + chunk.start, iov_len: chunk.count)
            filled += 1
            index += 1
        }
        return filled
    }

    /// Drops `count` bytes from the front, freeing chunks that are done.
    mutating func consume(_ count: Int) {
        var left = count
        byteCount -= count
        while left > 0, head < chunks.count {
            let available = chunks[head].count
            if left >= available {
                chunks[head].base.deallocate()
                left -= available
                head += 1
            } else {
                chunks[head].start += left
                left = 0
            }
        }
        if head == chunks.count {
            // Memory per idle connection is what we are measured on: an emptied queue keeps nothing.
            chunks.removeAll()
            head = 0
        } else if head > 32, head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }

    /// Frees everything queued.
    mutating func removeAll() {
        for index in head..<chunks.count { chunks[index].base.deallocate() }
        chunks = []
        head = 0
        byteCount = 0
    }
}
