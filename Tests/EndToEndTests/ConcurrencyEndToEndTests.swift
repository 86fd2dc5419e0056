import Foundation
import TestSupport
import Testing

@Suite("Concurrency: separate processes issuing from one CA at once")
struct ConcurrencyEndToEndTests {
    static let perProcess = 200

    @Test(
        "Two processes issuing 200 certificates each at the same time yield 400 distinct serials, all listed by ca list"
    )
    func parallelIssuance() throws {
        let ca = try TestCA(label: "concurrency")
        let output = ca.file("issued")
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: false)
        let binary = E2E.quote(ProcessRunner.symbolonPath)
        func loop(_ prefix: String) -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            let dir = E2E.quote(ca.dir)
            let out = E2E.quote(output)
            process.arguments = [
                "-c",
                """
                for i in $(seq \(Self.perProcess)); do
                  \(binary) ca issue --dir \(dir) --profile service --spiffe-id spiffe://acme.internal/\(prefix)/$i \
                    --out-cert \(out)/\(prefix)$i.pem --out-key \(out)/\(prefix)$i.key >>\(out)/\(prefix).log 2>&1 || { echo "failed at $i" >>\(out)/\(prefix).log; exit 1; }
                done
                """,
            ]
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "SYMBOLON_PASSPHRASE")
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            return process
        }
        let a = loop("a")
        let b = loop("b")
        let started = Date()
        try a.run()
        try b.run()
        let deadline = Date().addingTimeInterval(300)
        while (a.isRunning || b.isRunning) && Date() < deadline { usleep(50_000) }
        for process in [a, b] where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        a.waitUntilExit()
        b.waitUntilExit()
        let elapsed = Date().timeIntervalSince(started)
        let logA = E2E.read(output + "/a.log")
        let logB = E2E.read(output + "/b.log")
        #expect(a.terminationStatus == 0, "loop a (\(elapsed) s): \(logA.suffix(2000))")
        #expect(b.terminationStatus == 0, "loop b (\(elapsed) s): \(logB.suffix(2000))")

        // Serials from the files themselves (parsed here, spot-checked against openssl).
        var serials: [String] = []
        for prefix in ["a", "b"] {
            for i in 1...Self.perProcess {
                let file = output + "/\(prefix)\(i).pem"
                if let serial = E2E.serialOfFirstCertificate(in: file) { serials.append(serial) }
            }
        }
        #expect(serials.count == 2 * Self.perProcess, "certificate files with a serial: \(serials.count)")
        #expect(Set(serials).count == serials.count, "duplicate serials")
        for spot in ["a1", "b\(Self.perProcess)", "a\(Self.perProcess / 2)"] {
            let file = output + "/\(spot).pem"
            guard E2E.exists(file) else { continue }
            #expect(try E2E.opensslSerial(file) == E2E.serialOfFirstCertificate(in: file))
        }

        let list = try ca.symbolon(["ca", "list", "--format", "json"])
        try #require(list.status == 0, "\(list)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        let entries = try #require(json["certificates"] as? [[String: Any]])
        #expect(entries.count == 2 * Self.perProcess)
        let listed = Set(entries.compactMap { $0["serial"] as? String })
        #expect(listed.count == 2 * Self.perProcess)
        #expect(
            Set(serials).subtracting(listed).isEmpty,
            "serials in files but not in ca list: \(Set(serials).subtracting(listed).prefix(5))")
        #expect(try ca.sql("select count(*) from certificates") == "\(2 * Self.perProcess)")
        #expect(
            try ca.sql("select count(*) from audit_log where action = 'certificate.issue'") == "\(2 * Self.perProcess)")
        // Every SPIFFE ID was issued exactly once.
        let ids = Set(entries.compactMap { $0["spiffeID"] as? String })
        #expect(ids.count == 2 * Self.perProcess)
    }
}
