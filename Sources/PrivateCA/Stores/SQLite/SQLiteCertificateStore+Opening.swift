import Foundation

extension SQLiteCertificateStore {
    /// Opens a connection that can at least read the store, configures it and brings the schema up to date.
    static func open(
        path: String, createIfMissing: Bool, readOnly: Bool, busyTimeoutMilliseconds: Int32
    ) throws(StoreError) -> (connection: SQLiteConnection, appliedMigrations: Int) {
        let files = FileManager.default
        if !files.fileExists(atPath: path) {
            guard createIfMissing, !readOnly else {
                throw StoreError(
                    .storeMissing,
                    "there is no CA store at \(path); run `symbolon ca init` to create one (or check the path)",
                    location: path)
            }
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            guard files.fileExists(atPath: directory) else {
                throw StoreError(
                    .io, "cannot create the CA store at \(path): the directory \(directory) does not exist",
                    location: path)
            }
        }
        // Without SQLITE_OPEN_CREATE SQLite never creates the file, even if it vanished since the check above.
        let mode: SQLiteConnection.Mode = readOnly ? .readOnly : .readWrite(create: createIfMissing)
        var connection = try SQLiteConnection(path: path, mode: mode, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        if let failure = connection.readProbe() {
            connection = try reopenForReading(
                path: path, after: failure, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        }
        // Connection settings, not stored in the file: they write nothing.
        try connection.execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL")
        let applied = try SQLiteSchema.prepare(connection)
        return (connection, applied)
    }

    /// A WAL database can only be read where SQLite can create its `-shm` file next to it. In a directory this
    /// user cannot write, the one way to still read is SQLite's immutable mode, which skips locks and the WAL.
    /// That is only correct when no WAL content exists (no writer has the store open, and the last one
    /// checkpointed): then everything committed is in the main file.
    private static func reopenForReading(
        path: String, after failure: (code: Int32, message: String), busyTimeoutMilliseconds: Int32
    ) throws(StoreError) -> SQLiteConnection {
        let isPermissionProblem =
            StoreError.sqlite(
                code: failure.code, message: failure.message, path: path, writing: true
            ).code == .readOnly
        guard isPermissionProblem else {
            throw StoreError.sqlite(code: failure.code, message: failure.message, path: path, writing: false)
        }
        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        guard wal == 0 else {
            throw StoreError(
                .readOnly,
                "cannot read the CA store at \(path): its directory is not writable and it has uncheckpointed "
                    + "changes in \(path)-wal (SQLite: \(failure.message)); run a Symbolon command with write "
                    + "access to the directory once, or fix the directory's permissions",
                location: path)
        }
        let connection = try SQLiteConnection(
            path: path, mode: .immutable, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        if let again = connection.readProbe() {
            throw StoreError.sqlite(code: again.code, message: again.message, path: path, writing: false)
        }
        return connection
    }
}
