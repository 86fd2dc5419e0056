import Foundation
import PrivateCA
import Synchronization
import X509

struct IssuanceOptions {
    var seconds: Double
    var threads: Int
    var batch: Int
    var keys: Int
    var baselineSeconds: Double
    var parent: String?
    /// Set: issue through the bench's model of the proposed changes instead of CertificateAuthority.issue.
    var prototype: PrototypeTiers?
    var keep: Bool
}

/// Issues one batch and returns the records it made durable (the caller checks them against the requests).
typealias IssueBatch = @Sendable ([IssuanceRequest], Date) throws -> [CertificateRecord]

/// State shared by the issuing threads of one run.
final class RunState: Sendable {
    let nextIndex: Atomic<Int>
    let stop = Atomic<Bool>(false)
    let latencies = Mutex<[UInt64]>([])
    let issued = Atomic<Int>(0)
    let failure = Mutex<String?>(nil)

    init(firstIndex: Int) { nextIndex = Atomic(firstIndex) }

    func fail(_ message: String) {
        failure.withLock { if $0 == nil { $0 = message } }
        stop.store(true, ordering: .relaxed)
    }
}

struct RunResult {
    let label: String
    let mode: String
    let threads: Int
    let batch: Int
    let issued: Int
    let elapsed: Double
    let cpuSeconds: Double
    /// Per-batch latencies, nanoseconds, sorted.
    let latencies: [UInt64]
    var stored = 0
    var expected = 0
    /// ECDSA P-256 signatures per CPU-second in this process (EVP_PKEY_sign, as openssl speed), around the run.
    var signRate = 0.0

    var rate: Double { Double(issued) / elapsed }
}

struct IssuanceBenchmark {
    let options: IssuanceOptions

    init(_ options: IssuanceOptions) { self.options = options }

    func run() throws {
        let scratch = try ScratchDirectory(parent: options.parent)
        defer {
            if options.keep { print("kept \(scratch.path)") } else { scratch.remove() }
        }
        var load = [Double](repeating: 0, count: 3)
        getloadavg(&load, 3)
        print(
            "symbolon-bench issuance: ECDSA P-256 CA, profile \"service\", \(options.keys) pre-generated subject keys, "
                + "store in \(scratch.path) (SQLite WAL, synchronous=FULL)")
        print(
            "machine: \(ProcessInfo.processInfo.activeProcessorCount) CPUs, load average \(format(load[0], 2)) at start; "
                + "mode: \(options.prototype.map { "PROTOTYPE of the proposed changes, tiers \($0)" } ?? "CertificateAuthority.issue")"
        )
        let keys = try BenchCA.subjectKeys(options.keys)

        let main = try configuration(
            label: "main", in: scratch, keys: keys, threads: options.threads, batch: options.batch,
            seconds: options.seconds)
        report(main)
        if options.baselineSeconds > 0 {
            let baseline = try configuration(
                label: "baseline", in: scratch, keys: keys, threads: 1, batch: 1, seconds: options.baselineSeconds)
            report(baseline)
        }
    }

    /// One configuration on its own fresh CA: warm up, measure, then check the store.
    private func configuration(
        label: String, in scratch: ScratchDirectory, keys: [PublicKey], threads: Int, batch: Int, seconds: Double
    ) throws -> RunResult {
        let authority = try BenchCA.create(in: scratch.path, name: "ca-\(label)")
        let issue: IssueBatch
        if let tiers = options.prototype {
            let prototype = try PrototypeIssuer(authority: authority, keys: keys, tiers: tiers)
            issue = { requests, now in try prototype.issue(requests, now: now) }
        } else {
            issue = { requests, now in try authority.issue(requests, now: now).map(\.record) }
        }
        // Warm-up (statement cache, page cache, lazy OpenSSL tables), recorded like everything else.
        let warmUp = min(batch, 16)
        _ = try issue((0..<warmUp).map { BenchCA.request(1_000_000_000 + $0, keys: keys) }, Date())

        // The machine's speed drifts (shared host): the sign rate is also measured in process right around the run.
        let rawKey = try RawOpenSSL.privateKey(pemFile: authority.directory.intermediateKey)
        let signBefore = RawOpenSSL.signRate(rawKey.pointer, seconds: 0.5)
        var result = try measure(
            label: label, mode: options.prototype.map { "prototype-\($0)" } ?? "authority", threads: threads,
            batch: batch,
            seconds: seconds, keys: keys, issue: issue)
        result.signRate = (signBefore + RawOpenSSL.signRate(rawKey.pointer, seconds: 0.5)) / 2
        result.expected = warmUp + result.issued
        result.stored = try validate(authority, expected: result.expected)
        return result
    }

    private func measure(
        label: String, mode: String, threads: Int, batch: Int, seconds: Double, keys: [PublicKey],
        issue: @escaping IssueBatch
    ) throws -> RunResult {
        let state = RunState(firstIndex: 0)
        let group = DispatchGroup()
        let cpuBefore = processCPUSeconds()
        let start = nanoseconds()
        let deadline = start + UInt64(seconds * 1e9)
        for _ in 0..<threads {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                var latencies: [UInt64] = []
                latencies.reserveCapacity(Int(seconds * 20_000) / batch + 16)
                var issued = 0
                while !state.stop.load(ordering: .relaxed), nanoseconds() < deadline {
                    let first = state.nextIndex.add(batch, ordering: .relaxed).oldValue
                    let requests = (first..<first + batch).map { BenchCA.request($0, keys: keys) }
                    let begin = nanoseconds()
                    let records: [CertificateRecord]
                    do {
                        records = try issue(requests, Date())
                    } catch {
                        state.fail("issuing a batch of \(batch) failed: \(error)")
                        break
                    }
                    latencies.append(nanoseconds() - begin)
                    // Every certificate asked for came back, for the name asked for.
                    guard records.count == batch,
                        zip(records, requests).allSatisfy({ $0.spiffeID == $1.spiffeID })
                    else {
                        state.fail("a batch of \(batch) returned \(records.count) records or the wrong names")
                        break
                    }
                    issued += batch
                }
                state.issued.add(issued, ordering: .relaxed)
                let mine = latencies
                state.latencies.withLock { $0.append(contentsOf: mine) }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        let elapsed = Double(nanoseconds() - start) / 1e9
        let cpu = processCPUSeconds() - cpuBefore
        if let failure = state.failure.withLock({ $0 }) { throw BenchError(failure) }
        return RunResult(
            label: label, mode: mode, threads: threads, batch: batch, issued: state.issued.load(ordering: .relaxed),
            elapsed: elapsed, cpuSeconds: cpu, latencies: state.latencies.withLock { $0 }.sorted())
    }

    /// A benchmark that loses rows is wrong: the store must hold exactly what was issued, each with its audit
    /// event, and what it holds must be valid certificates of this CA.
    private func validate(_ authority: CertificateAuthority, expected: Int) throws -> Int {
        let records = try authority.store.certificates(matching: InventoryFilter())
        guard records.count == expected else {
            throw BenchError("the store holds \(records.count) certificates but \(expected) were issued")
        }
        guard Set(records.map(\.serial)).count == records.count else {
            throw BenchError("the store holds duplicate serials")
        }
        let events = try authority.store.auditEvents(limit: nil).filter { $0.action == "certificate.issue" }.count
        guard events == expected else {
            throw BenchError("the audit log has \(events) certificate.issue events but \(expected) were issued")
        }
        let verifier = ChainVerifier(trustRoots: [authority.root])
        for record in [records.first, records.randomElement(), records.last].compactMap({ $0 }) {
            let certificate = try Certificate(der: [UInt8](record.der))
            guard certificate.serial == record.serial,
                certificate.fingerprintSHA256.hexString == record.fingerprintSHA256,
                certificate.notAfter == record.notAfter, certificate.spiffeID?.description == record.spiffeID,
                certificate.subject.description == record.subject,
                certificate.subjectAlternativeNames.map(\.description) == record.subjectAlternativeNames
            else {
                throw BenchError("stored row \(record.serial) does not describe its own certificate")
            }
            if case .failure(let failure) = verifier.verify(
                leaf: certificate, intermediates: [authority.intermediate],
                policy: VerificationPolicy(time: record.issuedAt, purpose: .client))
            {
                throw BenchError("stored certificate \(record.serial) does not verify: \(failure.reason)")
            }
        }
        return records.count
    }

    private func report(_ result: RunResult) {
        let p50 = Double(percentile(result.latencies, 0.50)) / 1e6
        let p99 = Double(percentile(result.latencies, 0.99)) / 1e6
        let what =
            result.batch == 1 && result.threads == 1
            ? "1 thread × batch 1 (naive: one fsync'd commit per certificate)"
            : "\(result.threads) thread\(result.threads == 1 ? "" : "s") × batch \(result.batch)"
        print("")
        print("\(what), \(format(result.elapsed, 2)) s:")
        print("  \(grouped(result.issued)) certificates issued → \(format(result.rate, 0)) certificates/s")
        print(
            "  latency per batch of \(result.batch): p50 \(format(p50, 2)) ms, p99 \(format(p99, 2)) ms "
                + "(\(grouped(result.latencies.count)) batches)")
        print(
            "  CPU: \(format(result.cpuSeconds / result.elapsed, 2)) cores busy, "
                + "\(format(result.cpuSeconds / Double(max(result.issued, 1)) * 1e6, 0)) µs CPU per certificate")
        print(
            "  ECDSA P-256 sign rate in this process around the run: \(format(result.signRate, 0))/s (CPU time) → "
                + "ratio \(format(result.rate / result.signRate, 3))")
        print(
            "  store: \(grouped(result.stored)) certificates recorded = \(grouped(result.expected)) issued "
                + "(incl. warm-up), audit log matches, sampled rows verify ✓")
        print(
            "RESULT label=\(result.label) mode=\(result.mode) threads=\(result.threads) batch=\(result.batch) "
                + "seconds=\(format(result.elapsed, 3)) issued=\(result.issued) rate=\(format(result.rate, 1)) "
                + "p50_ms=\(format(p50, 3)) p99_ms=\(format(p99, 3)) cpu_cores=\(format(result.cpuSeconds / result.elapsed, 2)) "
                + "cpu_us_per_cert=\(format(result.cpuSeconds / Double(max(result.issued, 1)) * 1e6, 1)) "
                + "stored=\(result.stored) expected=\(result.expected) sign_rate=\(format(result.signRate, 1))")
    }
}
