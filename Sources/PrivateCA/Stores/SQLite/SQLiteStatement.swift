internal import CSQLite
import Foundation

/// A prepared statement borrowed from its `SQLiteConnection`'s cache for the length of one call.
///
/// It owns nothing: the connection finalizes every statement in its deinit, so a statement can neither leak nor
/// outlive the database handle. Parameter and column indexes follow SQLite: parameters from 1, columns from 0.
struct SQLiteStatement {
    let handle: OpaquePointer
    unowned let connection: SQLiteConnection

    /// SQLite must copy bound text and blobs: the Swift buffers are gone before the statement steps.
    private static var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }

    func bind(_ value: String?, at index: Int32) throws(StoreError) {
        guard let value else { return try check(sqlite3_bind_null(handle, index)) }
        try check(sqlite3_bind_text(handle, index, value, -1, Self.transient))
    }

    func bind(_ value: Int64?, at index: Int32) throws(StoreError) {
        guard let value else { return try check(sqlite3_bind_null(handle, index)) }
        try check(sqlite3_bind_int64(handle, index, value))
    }

    /// Dates are REAL unix seconds: a double keeps sub-microsecond precision for centuries around now.
    func bind(_ value: Date?, at index: Int32) throws(StoreError) {
        guard let value else { return try check(sqlite3_bind_null(handle, index)) }
        try check(sqlite3_bind_double(handle, index, value.timeIntervalSince1970))
    }

    func bind(_ value: Data, at index: Int32) throws(StoreError) {
        // An empty buffer has no base address, and binding nil would store NULL instead of an empty blob.
        guard !value.isEmpty else { return try check(sqlite3_bind_zeroblob(handle, index, 0)) }
        let code = value.withUnsafeBytes { bytes in
            sqlite3_bind_blob64(handle, index, bytes.baseAddress, sqlite3_uint64(bytes.count), Self.transient)
        }
        try check(code)
    }

    /// Binds a named parameter (`:name`) when the SQL uses it; the filter builds SQL with only the parameters it needs.
    func bind(_ value: String?, named name: String) throws(StoreError) {
        let index = sqlite3_bind_parameter_index(handle, name)
        if index > 0 { try bind(value, at: index) }
    }

    /// Binds a named date parameter when the SQL uses it.
    func bind(_ value: Date?, named name: String) throws(StoreError) {
        let index = sqlite3_bind_parameter_index(handle, name)
        if index > 0 { try bind(value, at: index) }
    }

    /// Advances to the next row: true when a row is available, false when the statement is done.
    func step() throws(StoreError) -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.failure(code, writing: !isReadOnly)
        }
    }

    /// Steps until done, for statements that return no rows.
    func run() throws(StoreError) {
        while try step() {}
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    func string(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: text)
    }

    func int64(_ column: Int32) -> Int64? {
        isNull(column) ? nil : sqlite3_column_int64(handle, column)
    }

    func date(_ column: Int32) -> Date? {
        isNull(column) ? nil : Date(timeIntervalSince1970: sqlite3_column_double(handle, column))
    }

    func data(_ column: Int32) -> Data {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let bytes = sqlite3_column_blob(handle, column) else { return Data() }
        return Data(bytes: bytes, count: count)
    }

    /// Statements that cannot change the database fail as reads; inside an explicit transaction everything counts
    /// as part of a write, since this store only opens transactions to write.
    private var isReadOnly: Bool {
        sqlite3_stmt_readonly(handle) != 0 && connection.inTransaction == false
    }

    private func check(_ code: Int32) throws(StoreError) {
        guard code == SQLITE_OK else { throw connection.failure(code, writing: !isReadOnly) }
    }
}
