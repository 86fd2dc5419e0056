import Foundation
import Testing

@testable import PrivateCA

/// Tests run as root, for whom permission bits stop nothing. So the store is made read-only in the three ways that
/// do stop root (opening it read-only, the immutable attribute) or that show what a normal user sees (a per-thread
/// file-system identity of `nobody`).
@Suite("SQLite certificate store: read-only stores")
struct SQLiteStoreReadOnlyTests {
    typealias S = SQLiteStoreSamples

    /// A closed store holding one certificate, as `symbolon ca init` + `issue` would leave it.
    static func populatedStore() throws -> SQLiteStoreScratch {
        let scratch = try SQLiteStoreScratch()
        let store = try SQLiteCertificateStore(path: scratch.path(), createIfMissing: true)
        try store.insert([S.record("0a")], audit: [S.event("certificate.issue", serial: "0a")])
        return scratch
    }

    /// Every kind of write, each expected to fail with `.readOnly` and a reason naming the store's path.
    static func expectWritesRefused(_ store: SQLiteCertificateStore, path: String) {
        let writes: [(String, () throws -> Void)] = [
            ("insert", { try store.insert([S.record("0b")], audit: []) }),
            ("revoke", { try store.revoke(serial: "0a", at: S.base, reason: .superseded, audit: S.event("r")) }),
            (
                "recordCRL",
                { _ = try store.recordCRL(issuer: "root", thisUpdate: S.base, nextUpdate: S.base, audit: S.event("c")) }
            ),
            ("append", { try store.append(S.event("x")) }),
        ]
        for (name, write) in writes {
            let error = #expect(throws: StoreError.self, "\(name)") { try write() }
            #expect(error?.code == .readOnly, "\(name): \(String(describing: error))")
            #expect(error?.reason.contains(path) == true, "\(name): \(String(describing: error))")
        }
    }

    /// Reads that must keep working on a read-only store.
    static func expectReadsWork(_ store: SQLiteCertificateStore) throws {
        #expect(try store.certificates(matching: InventoryFilter()).map(\.serial) == ["0a"])
        #expect(try store.certificate(serial: "0a") != nil)
        #expect(try store.auditEvents(limit: nil).count == 1)
        #expect(try store.latestCRL(issuer: "root") == nil)
    }

    @Test(
        "A store opened readOnly lists and looks up, refuses every write with readOnly, and leaves the file untouched")
    func openedReadOnly() throws {
        let scratch = try Self.populatedStore()
        let before = scratch.contents()
        do {
            let store = try SQLiteCertificateStore(path: scratch.path(), createIfMissing: false, readOnly: true)
            #expect(store.isReadOnly)
            try Self.expectReadsWork(store)
            Self.expectWritesRefused(store, path: scratch.path())
        }
        #expect(scratch.contents() == before)
    }

    @Test("An empty file opened readOnly cannot be initialised and says so instead of half-migrating")
    func readOnlyNeedsMigration() throws {
        let scratch = try SQLiteStoreScratch()
        try #require(FileManager.default.createFile(atPath: scratch.path(), contents: Data()))
        let error = #expect(throws: StoreError.self) {
            try SQLiteCertificateStore(path: scratch.path(), createIfMissing: false, readOnly: true)
        }
        #expect(error?.code == .readOnly)
        #expect(scratch.contents() == Data())
    }

    @Test(
        "An immutable store file (chattr +i) still lists for root, and writes fail with readOnly naming the path",
        .enabled(if: SQLiteStoreScratch.chattrWorks, "needs chattr +i (root on ext4 or similar)"))
    func immutableFile() throws {
        let scratch = try Self.populatedStore()
        try #require(try SQLiteStoreScratch.shell("/usr/bin/chattr", ["+i", scratch.path()]) == 0)
        let store = try SQLiteCertificateStore(path: scratch.path(), createIfMissing: false)
        #expect(store.isReadOnly)
        try Self.expectReadsWork(store)
        Self.expectWritesRefused(store, path: scratch.path())
    }

    @Test(
        "A store in an immutable directory (no -shm possible) still lists, and writes fail with readOnly",
        .enabled(if: SQLiteStoreScratch.chattrWorks, "needs chattr +i (root on ext4 or similar)"))
    func immutableDirectory() throws {
        let scratch = try Self.populatedStore()
        try #require(try SQLiteStoreScratch.shell("/usr/bin/chattr", ["+i", scratch.directory.path]) == 0)
        let store = try SQLiteCertificateStore(path: scratch.path(), createIfMissing: false)
        #expect(store.isReadOnly)
        try Self.expectReadsWork(store)
        Self.expectWritesRefused(store, path: scratch.path())
        let error = #expect(throws: StoreError.self) {
            try SQLiteCertificateStore(path: scratch.path("new.sqlite"), createIfMissing: true)
        }
        #expect(error?.code == .readOnly)
    }

    @Test(
        "A store in an immutable directory with leftover WAL content refuses to open rather than read stale data",
        .enabled(if: SQLiteStoreScratch.chattrWorks, "needs chattr +i (root on ext4 or similar)"))
    func immutableDirectoryWithLeftoverWAL() throws {
        let scratch = try SQLiteStoreScratch()
        let live = try SQLiteCertificateStore(path: scratch.path(), createIfMissing: true)
        try live.insert([S.record("0a")], audit: [])
        // What a crash leaves: the main file and a WAL holding committed changes, but no -shm index.
        let crashed = scratch.directory.appendingPathComponent("crashed")
        try FileManager.default.createDirectory(at: crashed, withIntermediateDirectories: false)
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(
                atPath: scratch.path() + suffix, toPath: crashed.appendingPathComponent("ca.sqlite" + suffix).path)
        }
        let walSize = try FileManager.default.attributesOfItem(atPath: scratch.path() + "-wal")[.size] as? Int
        try #require((walSize ?? 0) > 0)
        try #require(try SQLiteStoreScratch.shell("/usr/bin/chattr", ["+i", crashed.path]) == 0)

        let path = crashed.appendingPathComponent("ca.sqlite").path
        let error = #expect(throws: StoreError.self) {
            try SQLiteCertificateStore(path: path, createIfMissing: false)
        }
        #expect(error?.code == .readOnly)
        #expect(error?.reason.contains("\(path)-wal") == true)
    }

    @Test(
        "Without write access to the directory a user can list, while writes and new stores fail with readOnly",
        .enabled(if: getuid() == 0, "needs root to take another user's file-system identity"))
    func unprivilegedUser() async throws {
        let scratch = try Self.populatedStore()
        // root-owned 0755 directory and 0644 file: readable, not writable, by nobody.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: scratch.path())
        let path = scratch.path()
        let newPath = scratch.path("new.sqlite")
        let ran: Bool = try await onOwnThread {
            try asFileSystemUser(uid: 65534, gid: 65534) {
                let store = try SQLiteCertificateStore(path: path, createIfMissing: false)
                #expect(store.isReadOnly)
                try Self.expectReadsWork(store)
                Self.expectWritesRefused(store, path: path)
                let error = #expect(throws: StoreError.self) {
                    try SQLiteCertificateStore(path: newPath, createIfMissing: true)
                }
                #expect(error?.code == .readOnly)
                #expect(error?.reason.contains("permissions") == true)
                return true
            } ?? false
        }
        try #require(ran, "setfsuid is not available here")
        #expect(!FileManager.default.fileExists(atPath: newPath))
    }

    @Test(
        "For an unprivileged user, a read-only file in a writable directory lists and refuses writes with readOnly",
        .enabled(if: getuid() == 0, "needs root to take another user's file-system identity"))
    func unprivilegedUserReadOnlyFile() async throws {
        let scratch = try Self.populatedStore()
        try FileManager.default.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: scratch.directory.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: scratch.path())
        let path = scratch.path()
        let ran: Bool = try await onOwnThread {
            try asFileSystemUser(uid: 65534, gid: 65534) {
                let store = try SQLiteCertificateStore(path: path, createIfMissing: false)
                #expect(store.isReadOnly)
                try Self.expectReadsWork(store)
                Self.expectWritesRefused(store, path: path)
                return true
            } ?? false
        }
        try #require(ran, "setfsuid is not available here")
    }
}
