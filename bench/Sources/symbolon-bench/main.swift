import Foundation

// symbolon-bench: how many certificates Symbolon's CA issues per second in process.
//
//   symbolon-bench issuance [--seconds N] [--threads T] [--batch B] [--dir D] [--keys K]
//                           [--baseline-seconds S] [--prototype A|AC] [--keep]
//   symbolon-bench phases   [--count N] [--dir D]
//
// `issuance` measures CertificateAuthority.issue(_:now:) end to end (sign, self-verify, durable group commit);
// `phases` times each step of one issuance on its own, to show where the time goes (see bench/README.md).

let usage = """
    usage: symbolon-bench issuance [--seconds N] [--threads T] [--batch B] [--dir D] [--keys K]
                                   [--baseline-seconds S] [--prototype A|AC] [--keep]
           symbolon-bench phases [--count N] [--dir D]

    issuance   fresh CA in a temporary directory, then T threads each calling authority.issue(batch of B)
               for N seconds (default: 5 s, 2 threads, batch 64, 4 pre-generated P-256 subject keys);
               afterwards a single-threaded batch=1 run (one fsync'd commit per certificate) for S seconds
               (default: N; 0 skips it). Checks that the store holds exactly the certificates issued.
               --prototype TIERS issues through the bench's model of the proposed changes (bench/README.md,
               "Proposals"): A (tier A) or AC (tiers A and C), instead of CertificateAuthority.issue: same
               certificates, same store, same durability.
    phases     per-certificate cost of each issuance step, single-threaded: N certificates per step (default
               2000) in 10 interleaved rounds, best round reported; plus equivalence and refusal checks.
    --dir D    create the temporary CA under D instead of $TMPDIR (it is removed at the end unless --keep).
    """

struct Arguments {
    var command: String
    var values: [String: String] = [:]
    var flags: Set<String> = []

    init(_ raw: [String]) throws {
        guard let first = raw.first else { throw BenchError("missing command\n\(usage)") }
        command = first
        var index = 1
        let valueOptions: Set<String> = [
            "--seconds", "--threads", "--batch", "--dir", "--keys", "--baseline-seconds", "--count", "--prototype",
        ]
        let flagOptions: Set<String> = ["--keep"]
        while index < raw.count {
            let option = raw[index]
            if flagOptions.contains(option) {
                flags.insert(option)
                index += 1
            } else if valueOptions.contains(option) {
                guard index + 1 < raw.count else { throw BenchError("\(option) needs a value") }
                values[option] = raw[index + 1]
                index += 2
            } else if option == "-h" || option == "--help" {
                throw BenchError(usage)
            } else {
                throw BenchError("unknown option \(option)\n\(usage)")
            }
        }
    }

    func double(_ name: String, default value: Double, minimum: Double) throws -> Double {
        guard let text = values[name] else { return value }
        guard let parsed = Double(text), parsed >= minimum, parsed.isFinite else {
            throw BenchError("\(name) must be a number ≥ \(minimum), not \(text)")
        }
        return parsed
    }

    func int(_ name: String, default value: Int, minimum: Int) throws -> Int {
        guard let text = values[name] else { return value }
        guard let parsed = Int(text), parsed >= minimum else {
            throw BenchError("\(name) must be an integer ≥ \(minimum), not \(text)")
        }
        return parsed
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

do {
    let arguments = try Arguments(Array(CommandLine.arguments.dropFirst()))
    switch arguments.command {
    case "issuance":
        let seconds = try arguments.double("--seconds", default: 5, minimum: 0.1)
        let options = IssuanceOptions(
            seconds: seconds,
            threads: try arguments.int("--threads", default: 2, minimum: 1),
            batch: try arguments.int("--batch", default: 64, minimum: 1),
            keys: try arguments.int("--keys", default: 4, minimum: 1),
            baselineSeconds: try arguments.double("--baseline-seconds", default: seconds, minimum: 0),
            parent: arguments.values["--dir"],
            prototype: try arguments.values["--prototype"].map { text in
                guard let tiers = PrototypeTiers(text) else {
                    throw BenchError(
                        "--prototype takes A or AC, not \(text) (tier B was not adopted and is not modelled, "
                            + "see bench/README.md)")
                }
                return tiers
            },
            keep: arguments.flags.contains("--keep"))
        try IssuanceBenchmark(options).run()
    case "phases":
        try PhaseBenchmark(
            count: try arguments.int("--count", default: 2000, minimum: 10), parent: arguments.values["--dir"]
        ).run()
    case "-h", "--help", "help":
        print(usage)
    default:
        throw BenchError("unknown command \(arguments.command)\n\(usage)")
    }
} catch {
    FileHandle.standardError.write(Data("symbolon-bench: \(error)\n".utf8))
    exit(1)
}
