import Foundation
import Testing

@testable import PrivateCA

#if canImport(Glibc)
    import Glibc
#endif

/// A fresh temporary directory per test, removed (immutable flags first) when the test lets go of it.
final class SQLiteStoreScratch: Sendable {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("symbolon-store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    }

    deinit {
        // A failed chattr test must not leave an undeletable directory behind.
        if SQLiteStoreScratch.chattrWorks {
            _ = try? SQLiteStoreScratch.shell("/usr/bin/chattr", ["-R", "-i", directory.path])
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The path of a store file in this directory.
    func path(_ name: String = "ca.sqlite") -> String {
        directory.appendingPathComponent(name).path
    }

    /// The file's bytes, to check that an operation wrote nothing.
    func contents(_ name: String = "ca.sqlite") -> Data? {
        FileManager.default.contents(atPath: path(name))
    }

    /// Runs a program and returns its exit status; output is discarded.
    @discardableResult
    static func shell(_ program: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Whether this machine lets us set the immutable attribute (root with CAP_LINUX_IMMUTABLE on ext4 and the
    /// like); it is the one permission root cannot ignore, so it is how the tests make files read-only for root.
    static let chattrWorks: Bool = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chattr") else { return false }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("symbolon-chattr-\(UUID())").path
        guard FileManager.default.createFile(atPath: probe, contents: Data()) else { return false }
        defer {
            _ = try? shell("/usr/bin/chattr", ["-i", probe])
            try? FileManager.default.removeItem(atPath: probe)
        }
        guard (try? shell("/usr/bin/chattr", ["+i", probe])) == 0 else { return false }
        // Appending must now fail even for root.
        return FileHandle(forWritingAtPath: probe) == nil
    }()

    static let sqliteCLI = "/usr/bin/sqlite3"
    static var hasSQLiteCLI: Bool { FileManager.default.isExecutableFile(atPath: sqliteCLI) }
}

/// Sample data with dates that have sub-millisecond parts, so precision loss would show.
enum SQLiteStoreSamples {
    static let base = Date(timeIntervalSince1970: 1_760_000_000.123_456)

    static func record(
        _ serial: String, profile: String = "service", spiffeID: String? = nil, issuedAt: TimeInterval = 0,
        lifetime: TimeInterval = 86_400, revocation: Revocation? = nil
    ) -> CertificateRecord {
        let issued = base.addingTimeInterval(issuedAt)
        return CertificateRecord(
            serial: serial, profile: profile, subject: "CN=\(serial),O=Symbolon Test", spiffeID: spiffeID,
            subjectAlternativeNames: ["DNS:\(serial).example.test", "IP:10.0.0.1", "URI:\(spiffeID ?? "urn:x")"],
            notBefore: issued.addingTimeInterval(-60), notAfter: issued.addingTimeInterval(lifetime), issuedAt: issued,
            fingerprintSHA256: String(repeating: "ab", count: 32), der: Data([0x30, 0x82, 0x00, 0x01, 0xff, 0x00]),
            revocation: revocation)
    }

    static func event(_ action: String, serial: String? = nil, at offset: TimeInterval = 0) -> AuditEvent {
        AuditEvent(
            time: base.addingTimeInterval(offset), action: action, actor: "tester", serial: serial,
            details: ["profile": "service", "note": "spiffe://example.test/a \"quoted\""])
    }

    /// True when two instants agree to the millisecond, the precision the store promises.
    static func sameInstant(_ a: Date, _ b: Date) -> Bool {
        abs(a.timeIntervalSince1970 - b.timeIntervalSince1970) < 0.001
    }

    /// `stored` with each date replaced by `expected`'s when they agree to the millisecond, so that `==` (and its
    /// readable failure output) checks every other field exactly.
    static func aligned(_ stored: CertificateRecord, to expected: CertificateRecord) -> CertificateRecord {
        var result = stored
        if sameInstant(stored.notBefore, expected.notBefore) { result.notBefore = expected.notBefore }
        if sameInstant(stored.notAfter, expected.notAfter) { result.notAfter = expected.notAfter }
        if sameInstant(stored.issuedAt, expected.issuedAt) { result.issuedAt = expected.issuedAt }
        if let got = stored.revocation, let want = expected.revocation, sameInstant(got.date, want.date) {
            result.revocation?.date = want.date
        }
        return result
    }

    static func aligned(_ stored: AuditEvent, to expected: AuditEvent) -> AuditEvent {
        var result = stored
        if sameInstant(stored.time, expected.time) { result.time = expected.time }
        return result
    }
}

/// Runs blocking work on a thread of its own, so store calls that wait on locks (or change the thread's file-system
/// identity) never occupy the test runner's shared threads.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}

/// Runs `body` on the calling thread with the file-system identity of `uid`/`gid` (Linux `setfsuid`, which is
/// per-thread), so that root can check what an unprivileged user sees. Returns nil when not possible.
func asFileSystemUser<T>(uid: UInt32, gid: UInt32, _ body: () throws -> T) rethrows -> T? {
    #if canImport(Glibc)
        typealias SetID = @convention(c) (UInt32) -> Int32
        guard getuid() == 0, let uidSymbol = dlsym(nil, "setfsuid"), let gidSymbol = dlsym(nil, "setfsgid") else {
            return nil
        }
        let setfsuid = unsafeBitCast(uidSymbol, to: SetID.self)
        let setfsgid = unsafeBitCast(gidSymbol, to: SetID.self)
        _ = setfsgid(gid)
        _ = setfsuid(uid)
        defer {
            _ = setfsuid(0)
            _ = setfsgid(0)
        }
        // setfsuid reports the previous value whatever happens; asking with an invalid id reads the current one.
        guard UInt32(bitPattern: setfsuid(UInt32.max)) == uid else { return nil }
        return try body()
    #else
        return nil
    #endif
}
