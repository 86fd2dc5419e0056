import Foundation
import Testing

@testable import PrivateCA

@Suite("SQLite certificate store: records, revocations, CRLs and the audit log")
struct SQLiteCertificateStoreTests {
    typealias S = SQLiteStoreSamples
    let scratch: SQLiteStoreScratch
    let store: SQLiteCertificateStore

    init() throws {
        scratch = try SQLiteStoreScratch()
        store = try SQLiteCertificateStore(path: scratch.path(), createIfMissing: true)
    }

    @Test("An inserted certificate reads back with every field intact, dates to the millisecond")
    func roundTrip() throws {
        let plain = S.record("0a1b2c", spiffeID: "spiffe://example.test/ns/prod/sa/api")
        var revoked = S.record("ff01", profile: "user", revocation: Revocation(date: S.base, reason: .superseded))
        revoked.subjectAlternativeNames = []
        revoked.der = Data()
        try store.insert([plain, revoked], audit: [S.event("certificate.issue", serial: "0a1b2c")])

        let readPlain = try #require(try store.certificate(serial: "0a1b2c"))
        #expect(S.aligned(readPlain, to: plain) == plain)
        let readRevoked = try #require(try store.certificate(serial: "ff01"))
        #expect(S.aligned(readRevoked, to: revoked) == revoked)
        #expect(try store.certificate(serial: "0bad") == nil)

        let events = try store.auditEvents(limit: nil)
        #expect(events.count == 1)
        let expected = S.event("certificate.issue", serial: "0a1b2c")
        #expect(S.aligned(events[0], to: expected) == expected)
    }

    @Test("A batch containing an existing serial records nothing: no certificate and no audit event")
    func duplicateSerialRollsBackBatch() throws {
        try store.insert([S.record("01")], audit: [S.event("certificate.issue", serial: "01")])

        let error = #expect(throws: StoreError.self) {
            try store.insert(
                [S.record("02"), S.record("01"), S.record("03")],
                audit: [S.event("certificate.issue", serial: "02"), S.event("certificate.issue", serial: "03")])
        }
        #expect(error?.code == .duplicateSerial)
        #expect(error?.reason.contains("01") == true)
        #expect(try store.certificates(matching: InventoryFilter()).map(\.serial) == ["01"])
        #expect(try store.auditEvents(limit: nil).count == 1)
    }

    @Test("A batch that repeats a serial within itself records nothing")
    func duplicateWithinBatch() throws {
        let error = #expect(throws: StoreError.self) {
            try store.insert([S.record("07"), S.record("07")], audit: [S.event("certificate.issue")])
        }
        #expect(error?.code == .duplicateSerial)
        #expect(try store.certificates(matching: InventoryFilter()).isEmpty)
        #expect(try store.auditEvents(limit: nil).isEmpty)
    }

    @Test("Revoking marks the certificate, returns the updated record and appends the audit event")
    func revoke() throws {
        try store.insert([S.record("0c")], audit: [])
        let when = S.base.addingTimeInterval(3600.5)
        let updated = try store.revoke(
            serial: "0c", at: when, reason: .keyCompromise, audit: S.event("certificate.revoke", serial: "0c"))
        #expect(updated.revocation == Revocation(date: when, reason: .keyCompromise))

        let stored = try #require(try store.certificate(serial: "0c"))
        #expect(S.aligned(stored, to: updated) == updated)
        #expect(try store.auditEvents(limit: nil).map(\.action) == ["certificate.revoke"])
    }

    @Test("Revoking an unknown serial throws notFound and writes nothing")
    func revokeUnknown() throws {
        try store.insert([S.record("0d")], audit: [S.event("certificate.issue", serial: "0d")])
        let error = #expect(throws: StoreError.self) {
            try store.revoke(serial: "beef", at: S.base, reason: .unspecified, audit: S.event("certificate.revoke"))
        }
        #expect(error?.code == .notFound)
        #expect(try store.auditEvents(limit: nil).count == 1)
        #expect(try store.certificates(matching: InventoryFilter(revokedOnly: true)).isEmpty)
    }

    @Test("Revoking twice throws alreadyRevoked and keeps the first revocation")
    func revokeTwice() throws {
        try store.insert([S.record("0e")], audit: [])
        try store.revoke(serial: "0e", at: S.base, reason: .superseded, audit: S.event("certificate.revoke"))
        let error = #expect(throws: StoreError.self) {
            try store.revoke(
                serial: "0e", at: S.base.addingTimeInterval(10), reason: .keyCompromise,
                audit: S.event("certificate.revoke"))
        }
        #expect(error?.code == .alreadyRevoked)
        #expect(try store.certificate(serial: "0e")?.revocation?.reason == .superseded)
        #expect(try store.auditEvents(limit: nil).count == 1)
    }

    @Test(
        "Inventory filters select by expiry (unrevoked only), revocation, profile and exact SPIFFE ID, ordered by issue time then serial"
    )
    func filters() throws {
        let api = "spiffe://example.test/api"
        try store.insert(
            [
                S.record("05", profile: "service", spiffeID: api, issuedAt: 30, lifetime: 100),
                S.record("04", profile: "user", issuedAt: 10, lifetime: 100),
                S.record("03", profile: "service", spiffeID: api + "/v2", issuedAt: 10, lifetime: 10_000),
                S.record("02", profile: "service", issuedAt: 20, lifetime: 100),
                S.record("01", profile: "user", spiffeID: api, issuedAt: 40, lifetime: 10_000),
            ], audit: [])
        try store.revoke(serial: "02", at: S.base, reason: .keyCompromise, audit: S.event("certificate.revoke"))

        func serials(_ filter: InventoryFilter) throws -> [String] {
            try store.certificates(matching: filter).map(\.serial)
        }
        #expect(try serials(InventoryFilter()) == ["03", "04", "02", "05", "01"])
        #expect(try serials(InventoryFilter(expiringBefore: S.base.addingTimeInterval(1_000))) == ["04", "05"])
        #expect(try serials(InventoryFilter(revokedOnly: true)) == ["02"])
        #expect(try serials(InventoryFilter(profile: "service")) == ["03", "02", "05"])
        #expect(try serials(InventoryFilter(spiffeID: api)) == ["05", "01"])
        #expect(try serials(InventoryFilter(profile: "user", spiffeID: api)) == ["01"])
        #expect(
            try serials(InventoryFilter(expiringBefore: S.base.addingTimeInterval(1_000), profile: "user")) == ["04"])
        #expect(try serials(InventoryFilter(profile: "nobody")) == [])
    }

    @Test("CRL numbers start at 1, strictly increase per issuer, and are independent between issuers")
    func crlNumbers() throws {
        #expect(try store.latestCRL(issuer: "intermediate") == nil)
        var numbers: [String: [UInt64]] = [:]
        for (index, issuer) in ["intermediate", "intermediate", "root", "intermediate", "root"].enumerated() {
            let this = S.base.addingTimeInterval(Double(index) * 60)
            let crl = try store.recordCRL(
                issuer: issuer, thisUpdate: this, nextUpdate: this.addingTimeInterval(86_400),
                audit: S.event("crl.publish", at: Double(index)))
            numbers[issuer, default: []].append(crl.number)
        }
        #expect(numbers["intermediate"] == [1, 2, 3])
        #expect(numbers["root"] == [1, 2])

        let latest = try #require(try store.latestCRL(issuer: "intermediate"))
        #expect(latest.number == 3)
        #expect(S.sameInstant(latest.thisUpdate, S.base.addingTimeInterval(180)))
        #expect(S.sameInstant(latest.nextUpdate, S.base.addingTimeInterval(180 + 86_400)))
        #expect(try store.latestCRL(issuer: "root")?.number == 2)
        #expect(try store.auditEvents(limit: nil).count == 5)
    }

    @Test("Audit events come back in append order; a limit gives the most recent ones, oldest first")
    func auditOrder() throws {
        // Times deliberately out of order: the log's order is the order of appending, not of timestamps.
        let actions = (0..<6).map { "action.\($0)" }
        for (index, action) in actions.enumerated() {
            try store.append(S.event(action, at: Double(10 - index)))
        }
        #expect(try store.auditEvents(limit: nil).map(\.action) == actions)
        #expect(try store.auditEvents(limit: 2).map(\.action) == ["action.4", "action.5"])
        #expect(try store.auditEvents(limit: 100).map(\.action) == actions)
        #expect(try store.auditEvents(limit: 0).isEmpty)
        let first = try store.auditEvents(limit: nil)[0]
        #expect(S.aligned(first, to: S.event("action.0", at: 10)) == S.event("action.0", at: 10))
    }

    @Test("The audit log refuses UPDATE and DELETE, even through raw SQL on another connection")
    func auditAppendOnly() throws {
        try store.append(S.event("ca.init"))
        let raw = try SQLiteConnection(
            path: scratch.path(), mode: .readWrite(create: false), busyTimeoutMilliseconds: 5_000)
        for sql in ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"] {
            let error = #expect(throws: StoreError.self) { try raw.execute(sql) }
            #expect(error?.reason.contains("audit log is append-only") == true)
        }
        #expect(try store.auditEvents(limit: nil).map(\.actor) == ["tester"])
    }
}
