import Foundation

/// Persistent state of a certificate authority: the inventory of issued certificates, revocations, CRL numbers
/// and the append-only audit log.
///
/// Every mutating call is one transaction: it either happens whole (rows and audit events together) or not at
/// all. Implementations must be safe to use from several threads and from several processes sharing the same
/// storage (two `symbolon ca issue` at once never corrupt the store or duplicate a serial).
public protocol CertificateStore: Sendable {
    /// Records newly issued certificates and their audit events in one transaction.
    ///
    /// Throws a `StoreError` with code `.duplicateSerial` (and records nothing) when any serial already exists.
    func insert(_ records: [CertificateRecord], audit: [AuditEvent]) throws

    /// The certificate with this serial (lowercase hex, as in `CertificateRecord.serial`), or nil.
    func certificate(serial: String) throws -> CertificateRecord?

    /// Marks a certificate revoked and appends the audit event, in one transaction.
    ///
    /// Throws `.notFound` for an unknown serial and `.alreadyRevoked` when it is revoked already.
    /// Returns the updated record.
    @discardableResult
    func revoke(serial: String, at date: Date, reason: RevocationReason, audit: AuditEvent) throws
        -> CertificateRecord

    /// The inventory, filtered, ordered by `issuedAt` then serial.
    func certificates(matching filter: InventoryFilter) throws -> [CertificateRecord]

    /// Allocates the next CRL number for `issuer` (strictly greater than any before it, starting at 1), records
    /// the CRL's validity and appends the audit event, in one transaction.
    func recordCRL(issuer: String, thisUpdate: Date, nextUpdate: Date, audit: AuditEvent) throws -> CRLRecord

    /// The most recently recorded CRL of `issuer`, or nil when none was ever produced.
    func latestCRL(issuer: String) throws -> CRLRecord?

    /// Appends one audit event on its own.
    func append(_ event: AuditEvent) throws

    /// Audit events in the order they were appended.
    func auditEvents(limit: Int?) throws -> [AuditEvent]
}
