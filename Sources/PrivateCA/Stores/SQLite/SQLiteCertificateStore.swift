import Foundation
import Synchronization

/// A `CertificateStore` in one SQLite file (WAL mode), shared safely by threads and by processes.
///
/// Threads of one process take turns on the store's single connection; processes are serialized by SQLite's file
/// locks, each write being one `BEGIN IMMEDIATE` transaction that waits at most the busy timeout.
public final class SQLiteCertificateStore: CertificateStore {
    /// The database file.
    public let path: String
    /// The connection is only reachable through this lock, which is what makes the store `Sendable`.
    private let connection: Mutex<SQLiteConnection>
    /// How many migration steps opening this store applied (0 when the file was already current); for tests.
    let appliedMigrations: Int
    /// True when writes will fail with `.readOnly` (opened read-only, or the file or directory is not writable).
    public let isReadOnly: Bool

    /// Opens the store at `path`, creating and migrating it as needed.
    ///
    /// - Parameters:
    ///   - path: the database file.
    ///   - createIfMissing: create the file when it does not exist; when false, a missing file throws
    ///     `.storeMissing` and nothing is created.
    ///   - readOnly: open without write access (listing and look-ups only; writes throw `.readOnly`). A store that
    ///     cannot be written is also opened this way automatically when possible.
    ///   - busyTimeout: how long a call waits for another process's lock before throwing `.busy`.
    /// - Throws: `StoreError` with `.storeMissing`, `.readOnly`, `.corrupt`, `.schemaTooNew`, `.busy` or `.io`.
    public init(
        path: String, createIfMissing: Bool, readOnly: Bool = false, busyTimeout: Duration = .seconds(30)
    ) throws(StoreError) {
        let opened = try Self.open(
            path: path, createIfMissing: createIfMissing, readOnly: readOnly,
            busyTimeoutMilliseconds: Self.milliseconds(busyTimeout))
        self.path = path
        self.appliedMigrations = opened.appliedMigrations
        self.isReadOnly = opened.connection.isReadOnly
        self.connection = Mutex(opened.connection)
    }

    /// Records `records` and `audit` in one transaction; a duplicate serial records nothing.
    public func insert(_ records: [CertificateRecord], audit: [AuditEvent]) throws(StoreError) {
        guard !records.isEmpty || !audit.isEmpty else { return }
        try connection.withLock { connection throws(StoreError) in
            try connection.immediateTransaction { () throws(StoreError) in
                for record in records {
                    do throws(StoreError) {
                        try connection.run(SQLiteRows.insertCertificate) { statement throws(StoreError) in
                            try SQLiteRows.bind(record, to: statement)
                        }
                    } catch let error where error.code == .duplicateSerial {
                        throw StoreError(
                            .duplicateSerial,
                            "a certificate with serial \(record.serial) is already recorded; nothing from this batch "
                                + "of \(records.count) was recorded",
                            location: error.location)
                    }
                }
                for event in audit {
                    try Self.append(event, on: connection)
                }
            }
        }
    }

    /// The certificate with this serial (lowercase hex), or nil.
    public func certificate(serial: String) throws(StoreError) -> CertificateRecord? {
        try connection.withLock { connection throws(StoreError) in
            try Self.certificate(serial: serial, on: connection)
        }
    }

    /// Marks the certificate revoked and appends `audit`, in one transaction; returns the updated record.
    @discardableResult
    public func revoke(
        serial: String, at date: Date, reason: RevocationReason, audit: AuditEvent
    ) throws(StoreError) -> CertificateRecord {
        try connection.withLock { connection throws(StoreError) in
            try connection.immediateTransaction { () throws(StoreError) in
                // Checked inside the write transaction so a concurrent revoke cannot slip in between.
                guard let existing = try Self.certificate(serial: serial, on: connection) else {
                    throw StoreError(.notFound, "no certificate with serial \(serial) is recorded", location: path)
                }
                if let revocation = existing.revocation {
                    throw StoreError(
                        .alreadyRevoked,
                        "certificate \(serial) was already revoked at \(revocation.date) (\(revocation.reason))",
                        location: path)
                }
                try connection.run("UPDATE certificates SET revoked_at = ?, revocation_reason = ? WHERE serial = ?") {
                    statement throws(StoreError) in
                    try statement.bind(date, at: 1)
                    try statement.bind(Int64(reason.code), at: 2)
                    try statement.bind(serial, at: 3)
                }
                try Self.append(audit, on: connection)
                var updated = existing
                updated.revocation = Revocation(date: date, reason: reason)
                return updated
            }
        }
    }

    /// The inventory matching `filter`, ordered by issue time then serial; filtering happens in SQL.
    public func certificates(matching filter: InventoryFilter) throws(StoreError) -> [CertificateRecord] {
        var conditions: [String] = []
        if filter.expiringBefore != nil { conditions.append("not_after < :before AND revoked_at IS NULL") }
        if filter.revokedOnly { conditions.append("revoked_at IS NOT NULL") }
        if filter.profile != nil { conditions.append("profile = :profile") }
        if filter.spiffeID != nil { conditions.append("spiffe_id = :spiffe") }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(SQLiteRows.certificateColumns) FROM certificates\(whereClause) ORDER BY issued_at, serial"
        return try connection.withLock { connection throws(StoreError) in
            try connection.query(sql) { statement throws(StoreError) in
                try statement.bind(filter.expiringBefore, named: ":before")
                try statement.bind(filter.profile, named: ":profile")
                try statement.bind(filter.spiffeID, named: ":spiffe")
            } row: { row throws(StoreError) in
                try SQLiteRows.certificate(row)
            }
        }
    }

    /// Allocates the issuer's next CRL number and records the CRL and `audit`, in one transaction.
    public func recordCRL(
        issuer: String, thisUpdate: Date, nextUpdate: Date, audit: AuditEvent
    ) throws(StoreError) -> CRLRecord {
        try connection.withLock { connection throws(StoreError) in
            try connection.immediateTransaction { () throws(StoreError) in
                // Read and insert under the same write lock: two processes can never allocate the same number.
                let previous =
                    try connection.query("SELECT max(number) FROM crls WHERE issuer = ?") {
                        statement throws(StoreError) in
                        try statement.bind(issuer, at: 1)
                    } row: {
                        $0.int64(0) ?? 0
                    }.first ?? 0
                let record = CRLRecord(
                    issuer: issuer, number: UInt64(previous + 1), thisUpdate: thisUpdate, nextUpdate: nextUpdate)
                try connection.run("INSERT INTO crls (\(SQLiteRows.crlColumns)) VALUES (?, ?, ?, ?)") {
                    statement throws(StoreError) in
                    try statement.bind(issuer, at: 1)
                    try statement.bind(previous + 1, at: 2)
                    try statement.bind(thisUpdate, at: 3)
                    try statement.bind(nextUpdate, at: 4)
                }
                try Self.append(audit, on: connection)
                return record
            }
        }
    }

    /// The issuer's most recently numbered CRL, or nil.
    public func latestCRL(issuer: String) throws(StoreError) -> CRLRecord? {
        try connection.withLock { connection throws(StoreError) in
            try connection.query(
                "SELECT \(SQLiteRows.crlColumns) FROM crls WHERE issuer = ? ORDER BY number DESC LIMIT 1"
            ) { statement throws(StoreError) in
                try statement.bind(issuer, at: 1)
            } row: {
                SQLiteRows.crl($0)
            }.first
        }
    }

    /// Appends one audit event in its own transaction.
    public func append(_ event: AuditEvent) throws(StoreError) {
        try connection.withLock { connection throws(StoreError) in
            try connection.immediateTransaction { () throws(StoreError) in
                try Self.append(event, on: connection)
            }
        }
    }

    /// Audit events in append order; with a limit, the most recent `limit` events (still oldest first).
    public func auditEvents(limit: Int?) throws(StoreError) -> [AuditEvent] {
        let columns = "time, action, actor, serial, details"
        let sql: String
        if limit != nil {
            sql = "SELECT \(columns) FROM (SELECT id, \(columns) FROM audit_log ORDER BY id DESC LIMIT ?) ORDER BY id"
        } else {
            sql = "SELECT \(columns) FROM audit_log ORDER BY id"
        }
        return try connection.withLock { connection throws(StoreError) in
            try connection.query(sql) { statement throws(StoreError) in
                if let limit { try statement.bind(Int64(max(limit, 0)), at: 1) }
            } row: { row throws(StoreError) in
                try SQLiteRows.auditEvent(row)
            }
        }
    }

    /// A PRAGMA's value on this store's own connection, where connection-level settings are visible (for tests).
    func pragma(_ name: String) throws(StoreError) -> String? {
        try connection.withLock { connection throws(StoreError) in try connection.text("PRAGMA \(name)") }
    }

    private static func certificate(
        serial: String, on connection: SQLiteConnection
    ) throws(StoreError) -> CertificateRecord? {
        try connection.query("SELECT \(SQLiteRows.certificateColumns) FROM certificates WHERE serial = ?") {
            statement throws(StoreError) in
            try statement.bind(serial, at: 1)
        } row: { row throws(StoreError) in
            try SQLiteRows.certificate(row)
        }.first
    }

    private static func append(_ event: AuditEvent, on connection: SQLiteConnection) throws(StoreError) {
        try connection.run(SQLiteRows.insertAudit) { statement throws(StoreError) in
            try SQLiteRows.bind(event, to: statement)
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let total = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(total, 0))
    }
}
