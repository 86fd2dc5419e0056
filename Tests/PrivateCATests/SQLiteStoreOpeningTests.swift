import Foundation
import Testing

@testable import PrivateCA

@Suite("SQLite certificate store: opening, schema versions and damaged files")
struct SQLiteStoreOpeningTests {
    typealias S = SQLiteStoreSamples

    @Test("A new store is created in WAL mode with durable commits, foreign keys and a bounded busy timeout")
    func pragmas() throws {
        let scratch = try SQLiteStoreScratch()
        let store = try SQLiteCertificateStore(path: scratch.path(), createIfMissing: true)
        #expect(store.appliedMigrations == SQLiteSchema.migrations.count)
        #expect(try store.pragma("journal_mode") == "wal")
        #expect(try store.pragma("synchronous") == "2")  // FULL
        #expect(try store.pragma("foreign_keys") == "1")
        #expect(try store.pragma("busy_timeout") == "30000")
        #expect(try store.pragma("user_version") == String(SQLiteSchema.migrations.count))
        #expect(store.isReadOnly == false)
    }

    @Test("Reopening a store applies no migration, writes nothing to the file and keeps the data")
    func reopen() throws {
        let scratch = try SQLiteStoreScratch()
        do {
            let store = try SQLiteCertificateStore(path: scratch.path(), createIfMissing: true)
            try store.insert([S.record("0a")], audit: [S.event("certificate.issue", serial: "0a")])
        }
        let before = try #require(scratch.contents())
        do {
            let store = try SQLiteCertificateStore(path: scratch.path(), createIfMissing: false)
            #expect(store.appliedMigrations == 0)
            #expect(try store.certificates(matching: InventoryFilter()).map(\.serial) == ["0a"])
            #expect(try store.auditEvents(limit: nil).map(\.action) == ["certificate.issue"])
        }
        #expect(scratch.contents() == before)
    }

    @Test("A store whose schema version is newer than this build refuses to open with schemaTooNew")
    func schemaTooNew() throws {
        let scratch = try SQLiteStoreScratch()
        _ = try SQLiteCertificateStore(path: scratch.path(), createIfMissing: true)
        do {
            let raw = try SQLiteConnection(
                path: scratch.path(), mode: .readWrite(create: false), busyTimeoutMilliseconds: 5_000)
            try raw.execute("PRAGMA user_version = \(SQLiteSchema.migrations.count + 1)")
        }
        for readOnly in [false, true] {
            let error = #expect(throws: StoreError.self) {
                try SQLiteCertificateStore(path: scratch.path(), createIfMissing: false, readOnly: readOnly)
            }
            #expect(error?.code == .schemaTooNew)
            #expect(error?.reason.contains("newer Symbolon") == true)
        }
    }

    @Test("A file that is not a database is reported as corrupt with a clear message and left untouched")
    func notADatabase() throws {
        let scratch = try SQLiteStoreScratch()
        let text = Data(String(repeating: "-----BEGIN CERTIFICATE-----\nMIIB\n", count: 64).utf8)
        try text.write(to: URL(fileURLWithPath: scratch.path()))
        let error = #expect(throws: StoreError.self) {
            try SQLiteCertificateStore(path: scratch.path(), createIfMissing: true)
        }
        #expect(error?.code == .corrupt)
        #expect(error?.reason.contains("is not a Symbolon CA store") == true)
        #expect(error?.reason.contains("file is not a database") == true)  // SQLite's own words
        #expect(scratch.contents() == text)
    }

    @Test("An SQLite database that is not a Symbolon store is reported as corrupt, not migrated")
    func foreignDatabase() throws {
        let scratch = try SQLiteStoreScratch()
        do {
            let raw = try SQLiteConnection(
                path: scratch.path(), mode: .readWrite(create: true), busyTimeoutMilliseconds: 5_000)
            try raw.execute("CREATE TABLE notes (body TEXT)")
        }
        let error = #expect(throws: StoreError.self) {
            try SQLiteCertificateStore(path: scratch.path(), createIfMissing: false)
        }
        #expect(error?.code == .corrupt)
        #expect(error?.reason.contains("not a Symbolon CA store") == true)
    }

    @Test(
        "A missing store with createIfMissing false throws storeMissing pointing to `symbolon ca init`, and creates no file"
    )
    func missingStore() throws {
        let scratch = try SQLiteStoreScratch()
        for readOnly in [false, true] {
            let error = #expect(throws: StoreError.self) {
                try SQLiteCertificateStore(path: scratch.path(), createIfMissing: false, readOnly: readOnly)
            }
            #expect(error?.code == .storeMissing)
            #expect(error?.reason.contains("there is no CA store at \(scratch.path())") == true)
            #expect(error?.reason.contains("symbolon ca init") == true)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.directory.path).isEmpty)
    }

    @Test("Creating a store in a directory that does not exist fails with a message naming the directory")
    func missingDirectory() throws {
        let scratch = try SQLiteStoreScratch()
        let path = scratch.directory.appendingPathComponent("absent/ca.sqlite").path
        let error = #expect(throws: StoreError.self) {
            try SQLiteCertificateStore(path: path, createIfMissing: true)
        }
        #expect(error?.code == .io)
        #expect(error?.reason.contains("\(scratch.directory.path)/absent does not exist") == true)
    }

    @Test("Paths with spaces, percent signs and question marks are files, not URI syntax")
    func awkwardPath() throws {
        let scratch = try SQLiteStoreScratch()
        let name = "my ca %41?mode=ro#x.sqlite"
        let store = try SQLiteCertificateStore(path: scratch.path(name), createIfMissing: true)
        try store.insert([S.record("0f")], audit: [])
        #expect(FileManager.default.fileExists(atPath: scratch.path(name)))
        #expect(try store.certificate(serial: "0f") != nil)
    }
}
