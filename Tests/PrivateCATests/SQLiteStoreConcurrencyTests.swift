import Foundation
import Testing

@testable import PrivateCA

@Suite("SQLite certificate store: several connections and processes")
struct SQLiteStoreConcurrencyTests {
    typealias S = SQLiteStoreSamples

    @Test(
        "Two store instances on one file, each inserting 200 certificates one by one from its own thread, record all 400"
    )
    func twoConnections() async throws {
        let scratch = try SQLiteStoreScratch()
        let path = scratch.path()
        _ = try SQLiteCertificateStore(path: path, createIfMissing: true)
        let first = try SQLiteCertificateStore(path: path, createIfMissing: false)
        let second = try SQLiteCertificateStore(path: path, createIfMissing: false)

        async let a: Void = onOwnThread {
            for index in 0..<200 {
                let serial = String(format: "a%04x", index)
                try first.insert([S.record(serial)], audit: [S.event("certificate.issue", serial: serial)])
            }
        }
        async let b: Void = onOwnThread {
            for index in 0..<200 {
                let serial = String(format: "b%04x", index)
                try second.insert([S.record(serial)], audit: [S.event("certificate.issue", serial: serial)])
            }
        }
        _ = try await (a, b)

        let serials = try first.certificates(matching: InventoryFilter()).map(\.serial)
        #expect(serials.count == 400)
        #expect(Set(serials).count == 400)
        #expect(try second.auditEvents(limit: nil).count == 400)
    }

    @Test("Threads sharing one store instance take turns on its connection")
    func sharedInstance() async throws {
        let scratch = try SQLiteStoreScratch()
        let store = try SQLiteCertificateStore(path: scratch.path(), createIfMissing: true)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    try await onOwnThread {
                        for index in 0..<25 {
                            try store.insert([S.record(String(format: "%x%03x", worker + 10, index))], audit: [])
                            _ = try store.certificates(matching: InventoryFilter(profile: "service"))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try store.certificates(matching: InventoryFilter()).count == 100)
    }

    @Test("Two stores created at once on a new path migrate it exactly once")
    func concurrentCreation() async throws {
        let scratch = try SQLiteStoreScratch()
        let path = scratch.path()
        async let a = onOwnThread { try SQLiteCertificateStore(path: path, createIfMissing: true).appliedMigrations }
        async let b = onOwnThread { try SQLiteCertificateStore(path: path, createIfMissing: true).appliedMigrations }
        let applied = try await [a, b]
        #expect(applied.reduce(0, +) == SQLiteSchema.migrations.count)
        let store = try SQLiteCertificateStore(path: path, createIfMissing: false)
        #expect(try store.pragma("journal_mode") == "wal")
    }

    @Test(
        "A write that waits on another connection's lock longer than the busy timeout throws busy and records nothing")
    func busy() async throws {
        let scratch = try SQLiteStoreScratch()
        let path = scratch.path()
        let store = try SQLiteCertificateStore(path: path, createIfMissing: true, busyTimeout: .milliseconds(300))
        let holder = try SQLiteConnection(path: path, mode: .readWrite(create: false), busyTimeoutMilliseconds: 0)
        try holder.execute("BEGIN IMMEDIATE")

        let started = Date()
        let error = await #expect(throws: StoreError.self) {
            try await onOwnThread { try store.insert([S.record("0a")], audit: [S.event("certificate.issue")]) }
        }
        let waited = Date().timeIntervalSince(started)
        try holder.execute("ROLLBACK")

        #expect(error?.code == .busy)
        // Only a lower bound: it must have waited for the busy timeout. No upper bound — the machine is shared and
        // a loaded scheduler can delay the thread arbitrarily.
        #expect(waited >= 0.25, "waited \(waited) s")
        // Reads are not blocked by a writer in WAL mode, and nothing was recorded.
        #expect(try store.certificates(matching: InventoryFilter()).isEmpty)
        #expect(try store.auditEvents(limit: nil).isEmpty)
        try store.insert([S.record("0a")], audit: [])
    }

    @Test(
        "A separate sqlite3 process and a store insert at the same time without losing a row",
        .enabled(if: SQLiteStoreScratch.hasSQLiteCLI, "needs the sqlite3 command-line tool"))
    func twoProcesses() async throws {
        let scratch = try SQLiteStoreScratch()
        let path = scratch.path()
        let store = try SQLiteCertificateStore(path: path, createIfMissing: true)
        var script = ""
        for index in 0..<200 {
            script += """
                BEGIN IMMEDIATE;
                INSERT INTO certificates (serial, profile, subject, sans, not_before, not_after, issued_at, fingerprint, der)
                  VALUES ('c\(String(format: "%04x", index))', 'service', 'CN=cli', '[]', 0, 1, \(index), 'ff', x'30');
                INSERT INTO audit_log (time, action, actor, details) VALUES (\(index), 'certificate.issue', 'cli', '{}');
                COMMIT;

                """
        }
        let scriptPath = scratch.path("cli.sql")
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: SQLiteStoreScratch.sqliteCLI)
        process.arguments = ["-bail", path, ".timeout 30000", ".read \(scriptPath)"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()

        try await onOwnThread {
            for index in 0..<200 {
                let serial = String(format: "d%04x", index)
                try store.insert([S.record(serial)], audit: [S.event("certificate.issue", serial: serial)])
            }
        }
        let status: Int32 = try await onOwnThread {
            process.waitUntilExit()
            return process.terminationStatus
        }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(status == 0, "sqlite3: \(stderr)")
        #expect(try store.certificates(matching: InventoryFilter()).count == 400)
        #expect(try store.auditEvents(limit: nil).count == 400)
    }
}
