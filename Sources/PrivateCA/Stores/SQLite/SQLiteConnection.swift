internal import CSQLite
import Foundation

/// One SQLite database connection: the only owner of the `sqlite3` handle and of its prepared statements.
///
/// Not thread-safe on its own (it is opened without SQLite's mutexes): its user must serialize access, as
/// `SQLiteCertificateStore` does with a `Mutex`.
final class SQLiteConnection {
    /// How to open the file.
    enum Mode: Equatable {
        /// Read and write; `create` also creates a missing file.
        case readWrite(create: Bool)
        /// Read only, with normal locking so that concurrent writers are seen consistently.
        case readOnly
        /// Read only without locks or `-shm` file: the only way SQLite can read a WAL database whose directory
        /// is not writable. Safe only when no writer can be active, which the opener checks.
        case immutable
    }

    let path: String
    let mode: Mode
    private let handle: OpaquePointer
    /// Prepared once per SQL text and reused: the store runs a small fixed set of statements.
    private var statements: [String: OpaquePointer] = [:]

    init(path: String, mode: Mode, busyTimeoutMilliseconds: Int32) throws(StoreError) {
        var flags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX
        switch mode {
        case .readWrite(let create): flags |= SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)
        case .readOnly, .immutable: flags |= SQLITE_OPEN_READONLY
        }
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(Self.uri(path: path, immutable: mode == .immutable), &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            let extended = opened.map { sqlite3_extended_errcode($0) } ?? code
            // Never owned by an instance, so deinit will not see it: the one close outside deinit.
            sqlite3_close(opened)
            let writing: Bool
            if case .readWrite = mode { writing = true } else { writing = false }
            throw StoreError.sqlite(code: extended, message: message, path: path, writing: writing)
        }
        self.path = path
        self.mode = mode
        self.handle = opened
        sqlite3_extended_result_codes(opened, 1)
        // Bounded: a stuck process elsewhere turns into `.busy`, never into a hang.
        sqlite3_busy_timeout(opened, busyTimeoutMilliseconds)
    }

    deinit {
        // sqlite3_next_stmt also finds statements that never reached the cache, so close cannot fail with BUSY.
        while let statement = sqlite3_next_stmt(handle, nil) {
            sqlite3_finalize(statement)
        }
        sqlite3_close(handle)
    }

    /// True when SQLite refuses writes on this connection (opened read-only, or the file is not writable).
    var isReadOnly: Bool { sqlite3_db_readonly(handle, "main") == 1 }

    /// True between BEGIN and COMMIT/ROLLBACK.
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs SQL without parameters, possibly several statements (migrations, PRAGMAs, transaction control).
    func execute(_ sql: String) throws(StoreError) {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw failure(code, writing: true) }
    }

    /// Lends the cached prepared statement for `sql`, reset and cleared again when `body` returns.
    func withStatement<Result>(
        _ sql: String, _ body: (SQLiteStatement) throws(StoreError) -> Result
    ) throws(StoreError) -> Result {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        return try body(SQLiteStatement(handle: statement, connection: self))
    }

    /// Runs a statement that returns no rows.
    func run(_ sql: String, bind: (SQLiteStatement) throws(StoreError) -> Void = { _ in }) throws(StoreError) {
        try withStatement(sql) { statement throws(StoreError) in
            try bind(statement)
            try statement.run()
        }
    }

    /// Runs a query and converts every row.
    func query<Row>(
        _ sql: String, bind: (SQLiteStatement) throws(StoreError) -> Void = { _ in },
        row: (SQLiteStatement) throws(StoreError) -> Row
    ) throws(StoreError) -> [Row] {
        try withStatement(sql) { statement throws(StoreError) in
            try bind(statement)
            var rows: [Row] = []
            while try statement.step() {
                rows.append(try row(statement))
            }
            return rows
        }
    }

    /// The first column of the first row, as an integer (PRAGMA values, counts).
    func integer(_ sql: String) throws(StoreError) -> Int64 {
        try query(sql) { $0.int64(0) ?? 0 }.first ?? 0
    }

    /// The first column of the first row, as text.
    func text(_ sql: String) throws(StoreError) -> String? {
        try query(sql) { $0.string(0) }.first ?? nil
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back when anything in it fails.
    ///
    /// IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so two processes never interleave
    /// their read-then-write sequences and a transaction never fails half-way for lock reasons.
    func immediateTransaction<Result>(_ body: () throws(StoreError) -> Result) throws(StoreError) -> Result {
        try execute("BEGIN IMMEDIATE")
        do throws(StoreError) {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            // The error is already built from sqlite3_errmsg; ROLLBACK may overwrite that message but not the error.
            if inTransaction { sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
            throw error
        }
    }

    /// Builds the store error for a failed call on this connection, quoting SQLite's own message.
    func failure(_ code: Int32, writing: Bool) -> StoreError {
        StoreError.sqlite(
            code: code, message: String(cString: sqlite3_errmsg(handle)), path: path, writing: writing)
    }

    /// Probes whether the database can be read at all, returning SQLite's raw code and message on failure, so the
    /// opener can tell "directory not writable for WAL" from other failures before any error is built.
    func readProbe() -> (code: Int32, message: String)? {
        let code = sqlite3_exec(handle, "SELECT count(*) FROM sqlite_master", nil, nil, nil)
        return code == SQLITE_OK ? nil : (sqlite3_extended_errcode(handle), String(cString: sqlite3_errmsg(handle)))
    }

    private func prepared(_ sql: String) throws(StoreError) -> OpaquePointer {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw failure(code, writing: inTransaction) }
        statements[sql] = statement
        return statement
    }

    /// A `file:` URI for `path`. URIs are always used because this SQLite interprets names starting with `file:`
    /// as URIs anyway, and the immutable mode needs a URI parameter.
    static func uri(path: String, immutable: Bool) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/".utf8)
        var encoded = ""
        for byte in path.utf8 {
            if allowed.contains(byte) {
                encoded.append(Character(Unicode.Scalar(byte)))
            } else {
                encoded += String(format: "%%%02X", byte)
            }
        }
        return "file:" + encoded + (immutable ? "?immutable=1" : "")
    }
}
