import Foundation

/// SQL text and row conversions for the store's three tables, kept together so columns and indexes cannot drift.
enum SQLiteRows {
    static let certificateColumns = """
        serial, profile, subject, spiffe_id, sans, not_before, not_after, issued_at, fingerprint, der, \
        revoked_at, revocation_reason
        """

    static let insertCertificate =
        "INSERT INTO certificates (\(certificateColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    static let insertAudit = "INSERT INTO audit_log (time, action, actor, serial, details) VALUES (?, ?, ?, ?, ?)"

    static let crlColumns = "issuer, number, this_update, next_update"

    static func bind(_ record: CertificateRecord, to statement: SQLiteStatement) throws(StoreError) {
        try statement.bind(record.serial, at: 1)
        try statement.bind(record.profile, at: 2)
        try statement.bind(record.subject, at: 3)
        try statement.bind(record.spiffeID, at: 4)
        try statement.bind(try json(record.subjectAlternativeNames), at: 5)
        try statement.bind(record.notBefore, at: 6)
        try statement.bind(record.notAfter, at: 7)
        try statement.bind(record.issuedAt, at: 8)
        try statement.bind(record.fingerprintSHA256, at: 9)
        try statement.bind(record.der, at: 10)
        try statement.bind(record.revocation?.date, at: 11)
        try statement.bind(record.revocation.map { Int64($0.reason.code) }, at: 12)
    }

    /// Reads a row selected with `certificateColumns`.
    static func certificate(_ row: SQLiteStatement) throws(StoreError) -> CertificateRecord {
        let serial = row.string(0) ?? ""
        let sans: [String] = try decode(row.string(4), of: "certificate \(serial)", column: "sans", row)
        var revocation: Revocation?
        if let date = row.date(10) {
            let code = row.int64(11) ?? -1
            guard let reason = RevocationReason(code: Int(code)) else {
                throw corrupt("certificate \(serial) has an unknown revocation reason code \(code)", row)
            }
            revocation = Revocation(date: date, reason: reason)
        }
        return CertificateRecord(
            serial: serial, profile: row.string(1) ?? "", subject: row.string(2) ?? "", spiffeID: row.string(3),
            subjectAlternativeNames: sans, notBefore: row.date(5) ?? .distantPast,
            notAfter: row.date(6) ?? .distantPast,
            issuedAt: row.date(7) ?? .distantPast, fingerprintSHA256: row.string(8) ?? "", der: row.data(9),
            revocation: revocation)
    }

    static func bind(_ event: AuditEvent, to statement: SQLiteStatement) throws(StoreError) {
        try statement.bind(event.time, at: 1)
        try statement.bind(event.action, at: 2)
        try statement.bind(event.actor, at: 3)
        try statement.bind(event.serial, at: 4)
        try statement.bind(try json(event.details), at: 5)
    }

    /// Reads a row selected as `time, action, actor, serial, details`.
    static func auditEvent(_ row: SQLiteStatement) throws(StoreError) -> AuditEvent {
        let details: [String: String] = try decode(row.string(4), of: "an audit event", column: "details", row)
        return AuditEvent(
            time: row.date(0) ?? .distantPast, action: row.string(1) ?? "", actor: row.string(2) ?? "",
            serial: row.string(3), details: details)
    }

    /// Reads a row selected with `crlColumns`.
    static func crl(_ row: SQLiteStatement) -> CRLRecord {
        CRLRecord(
            issuer: row.string(0) ?? "", number: UInt64(max(row.int64(1) ?? 0, 0)),
            thisUpdate: row.date(2) ?? .distantPast, nextUpdate: row.date(3) ?? .distantPast)
    }

    /// Sorted keys and unescaped slashes keep the stored JSON stable and readable with the sqlite3 CLI.
    private static func json<Value: Encodable>(_ value: Value) throws(StoreError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8) else {
            throw StoreError(.io, "could not encode \(Value.self) as JSON for the CA store")
        }
        return text
    }

    private static func decode<Value: Decodable>(
        _ text: String?, of owner: String, column: String, _ row: SQLiteStatement
    ) throws(StoreError) -> Value {
        guard let text, let value = try? JSONDecoder().decode(Value.self, from: Data(text.utf8)) else {
            throw corrupt("the \(column) column of \(owner) is not the JSON this Symbolon writes", row)
        }
        return value
    }

    private static func corrupt(_ what: String, _ row: SQLiteStatement) -> StoreError {
        StoreError(.corrupt, "\(what); the store is damaged", location: row.connection.path)
    }
}
