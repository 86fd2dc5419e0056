import Foundation

/// The store's schema and its migrations, tracked by `PRAGMA user_version`.
///
/// Migrations are append-only: a released step is never edited, a change is a new step at the end. Each step runs
/// in its own `BEGIN IMMEDIATE` transaction together with the version bump, so a crash leaves the store at a
/// well-defined version and a concurrent opener waits for the lock instead of migrating twice.
enum SQLiteSchema {
    /// `PRAGMA application_id` of a Symbolon store ("SYMB"): tells our files from other SQLite databases.
    static let applicationID: Int64 = 0x5359_4D42

    /// Migration steps; step `i` (0-based) brings the store to version `i + 1`.
    static let migrations: [String] = [
        """
        PRAGMA application_id = \(applicationID);

        CREATE TABLE certificates (
            serial            TEXT PRIMARY KEY NOT NULL,
            profile           TEXT NOT NULL,
            subject           TEXT NOT NULL,
            spiffe_id         TEXT,
            sans              TEXT NOT NULL CHECK (json_valid(sans)),
            not_before        REAL NOT NULL,
            not_after         REAL NOT NULL,
            issued_at         REAL NOT NULL,
            fingerprint       TEXT NOT NULL,
            der               BLOB NOT NULL,
            revoked_at        REAL,
            revocation_reason INTEGER,
            CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL))
        );
        CREATE INDEX certificates_by_not_after ON certificates (not_after);
        CREATE INDEX certificates_by_profile ON certificates (profile);
        CREATE INDEX certificates_by_spiffe_id ON certificates (spiffe_id);

        CREATE TABLE crls (
            issuer      TEXT NOT NULL,
            number      INTEGER NOT NULL CHECK (number >= 1),
            this_update REAL NOT NULL,
            next_update REAL NOT NULL,
            UNIQUE (issuer, number)
        );

        CREATE TABLE audit_log (
            id      INTEGER PRIMARY KEY AUTOINCREMENT,
            time    REAL NOT NULL,
            action  TEXT NOT NULL,
            actor   TEXT NOT NULL,
            serial  TEXT,
            details TEXT NOT NULL CHECK (json_valid(details))
        );
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit log is append-only');
        END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit log is append-only');
        END;
        """
    ]

    /// The version this build writes.
    static var latestVersion: Int64 { Int64(migrations.count) }

    /// Checks that the database is a Symbolon store this build understands and applies missing migrations.
    ///
    /// Writes nothing when the store is already at `latestVersion`, so a read-only store opens for listing.
    /// Returns how many migration steps this call applied.
    static func prepare(_ connection: SQLiteConnection) throws(StoreError) -> Int {
        let version = try connection.integer("PRAGMA user_version")
        try checkIdentity(connection, version: version)
        if version == latestVersion { return 0 }
        if version > latestVersion {
            throw StoreError(
                .schemaTooNew,
                "the CA store was written by a newer Symbolon (schema version \(version); this one knows up to "
                    + "\(latestVersion)); upgrade Symbolon to use it",
                location: connection.path)
        }
        if connection.isReadOnly {
            throw StoreError(
                .readOnly,
                "the CA store at \(connection.path) needs an upgrade from schema version \(version) to "
                    + "\(latestVersion) but is open read-only; run a Symbolon command that can write to it first",
                location: connection.path)
        }
        // WAL lets listings read while an issue writes; set once, it is persistent in the file.
        if try connection.text("PRAGMA journal_mode") != "wal" {
            try connection.execute("PRAGMA journal_mode = WAL")
        }
        var applied = 0
        for (index, step) in migrations.enumerated() {
            let target = Int64(index + 1)
            guard target > version else { continue }
            try connection.immediateTransaction { () throws(StoreError) in
                // Another process may have migrated while this one waited for the write lock.
                guard try connection.integer("PRAGMA user_version") < target else { return }
                try connection.execute(step)
                try connection.execute("PRAGMA user_version = \(target)")
                applied += 1
            }
        }
        return applied
    }

    /// Refuses SQLite files that are not Symbolon stores, rather than adding our tables to someone else's database.
    private static func checkIdentity(_ connection: SQLiteConnection, version: Int64) throws(StoreError) {
        if version == 0 {
            let objects = try connection.integer("SELECT count(*) FROM sqlite_master")
            guard objects == 0 else {
                throw StoreError(
                    .corrupt,
                    "\(connection.path) is an SQLite database but not a Symbolon CA store (it has \(objects) schema "
                        + "objects and no Symbolon schema version); check the path",
                    location: connection.path)
            }
            return
        }
        let applicationID = try connection.integer("PRAGMA application_id")
        guard applicationID == SQLiteSchema.applicationID else {
            throw StoreError(
                .corrupt,
                "\(connection.path) is an SQLite database but not a Symbolon CA store (application_id "
                    + "\(applicationID)); check the path",
                location: connection.path)
        }
    }
}
