import Foundation
import PrivateCA
import X509

/// Monotonic nanoseconds.
@inline(__always) func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// CPU seconds this process has used so far (user + system, all threads).
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The value at quantile `q` (0…1) of `sorted`, nearest rank.
func percentile(_ sorted: [UInt64], _ q: Double) -> UInt64 {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

/// Integer with thousands separators, for the human-readable lines.
func grouped(_ value: Int) -> String {
    let digits = String(value)
    var out = ""
    for (index, character) in digits.reversed().enumerated() {
        if index > 0, index % 3 == 0 { out.append(",") }
        out.append(character)
    }
    return String(out.reversed())
}

/// A directory made with mkdtemp, removed on `remove()`.
struct ScratchDirectory {
    let path: String

    init(parent: String?) throws {
        let base = parent ?? (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp")
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        var template = Array((base + "/symbolon-bench-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw BenchError("cannot create a temporary directory under \(base): \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

enum BenchCA {
    static let trustDomain = "bench.internal"
    static let passphrase = "symbolon-bench-passphrase"

    /// A new CA (root + intermediate, P-256) in `directory`/`name`; the root key's PBKDF2 encryption makes this
    /// take a few tenths of a second, which is why it stays outside every timed section.
    static func create(in directory: String, name: String) throws -> CertificateAuthority {
        try CertificateAuthority.initialize(
            directory: CADirectory(path: directory + "/" + name),
            configuration: CAConfiguration(name: "Symbolon Bench", trustDomain: trustDomain),
            rootPassphrase: passphrase, keyAlgorithm: .ecdsaP256, actor: "symbolon-bench")
    }

    /// Subject keys generated up front, as a CA signing CSRs never generates keys itself.
    static func subjectKeys(_ count: Int) throws -> [PublicKey] {
        try (0..<count).map { _ in try PrivateKey.generate(.ecdsaP256).publicKey }
    }

    static func request(_ index: Int, keys: [PublicKey]) -> IssuanceRequest {
        IssuanceRequest(
            profile: "service", keySource: .publicKey(keys[index % keys.count]),
            spiffeID: "spiffe://\(trustDomain)/w/\(index)")
    }
}
