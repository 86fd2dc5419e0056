import Foundation
import Synchronization
import X509

/// Remembers verified chains so a returning peer costs a dictionary look-up instead of parsing and path
/// validation. Two levels: by the exact leaf DER (a reconnecting client), and by an already verified intermediate
/// (a fleet of distinct clients of one intermediate: only the new leaf is checked, against that intermediate).
///
/// Bounded: when a level reaches its capacity, the older generation is dropped and the current one becomes the
/// older (an approximate LRU at O(1) per operation). Every entry carries the moment it stops being valid (the
/// earliest notAfter in its chain, and the earliest CRL nextUpdate used) and is never returned after it. Flushing
/// on trust or revocation changes is done by building a new cache (a new `PeerVerifier`), never by patching one.
final class VerifiedChainCache: Sendable {
    struct Entry: Sendable {
        let identity: PeerIdentity
        let validFrom: Date
        let validUntil: Date
    }

    struct AnchorEntry: Sendable {
        /// Verifies leaves issued by the intermediate, anchored at it.
        let verifier: ChainVerifier
        /// The intermediate's own verified chain (intermediate first, root last).
        let chain: [Certificate]
        let validUntil: Date
    }

    /// DER bytes as a dictionary key, hashed as one buffer (an `[UInt8]` key is hashed element by element, which
    /// showed in profiles of the handshake path).
    struct DERKey: Hashable {
        let bytes: [UInt8]
        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }

    private struct Generations<Value> {
        var current: [DERKey: Value] = [:]
        var previous: [DERKey: Value] = [:]

        mutating func get(_ key: DERKey) -> Value? {
            if let value = current[key] { return value }
            guard let value = previous.removeValue(forKey: key) else { return nil }
            current[key] = value
            return value
        }

        mutating func set(_ key: DERKey, _ value: Value, capacity: Int) {
            if current.count >= max(1, capacity / 2) {
                previous = current
                current = [:]
            }
            current[key] = value
        }

        mutating func remove(_ key: DERKey) {
            current.removeValue(forKey: key)
            previous.removeValue(forKey: key)
        }

        var count: Int { current.count + previous.count }
    }

    private struct State {
        var leaves = Generations<Entry>()
        var anchors = Generations<AnchorEntry>()
        var hits = 0
        var misses = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = max(2, capacity) }

    func leaf(_ der: [UInt8], at time: Date) -> Entry? {
        let der = DERKey(bytes: der)
        return state.withLock { state in
            guard let entry = state.leaves.get(der) else {
                state.misses += 1
                return nil
            }
            guard time >= entry.validFrom, time < entry.validUntil else {
                state.leaves.remove(der)
                state.misses += 1
                return nil
            }
            state.hits += 1
            return entry
        }
    }

    func remember(leaf der: [UInt8], _ entry: Entry) {
        state.withLock { $0.leaves.set(DERKey(bytes: der), entry, capacity: capacity) }
    }

    func anchor(_ der: [UInt8], at time: Date) -> AnchorEntry? {
        let der = DERKey(bytes: der)
        return state.withLock { state in
            guard let entry = state.anchors.get(der) else { return nil }
            guard time < entry.validUntil else {
                state.anchors.remove(der)
                return nil
            }
            return entry
        }
    }

    func remember(anchor der: [UInt8], _ entry: AnchorEntry) {
        // Few intermediates exist; a small bound is plenty and keeps a hostile peer from growing it.
        state.withLock { $0.anchors.set(DERKey(bytes: der), entry, capacity: 256) }
    }

    /// (leaf hits, leaf misses, cached leaves) since creation, for tests and metrics.
    var statistics: (hits: Int, misses: Int, count: Int) {
        state.withLock { ($0.hits, $0.misses, $0.leaves.count) }
    }
}
