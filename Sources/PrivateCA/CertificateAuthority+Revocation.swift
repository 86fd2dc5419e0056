import Foundation
import X509

extension CertificateAuthority {
    /// Which CA signs a CRL.
    public enum CRLIssuer: String, Sendable {
        /// The online intermediate: covers every issued certificate.
        case intermediate
        /// The root: covers the intermediate. Needs the root key.
        case root
    }

    /// Revokes the certificate with `serial` (hex; colons, spaces and a `0x` prefix are ignored). Unknown and
    /// already revoked serials are refused and change nothing. The revocation reaches relying parties with the next
    /// CRL (`publishCRL`).
    @discardableResult
    public func revoke(serial: String, reason: RevocationReason = .unspecified, now: Date = Date()) throws
        -> CertificateRecord
    {
        let canonical = try Self.canonicalSerial(serial)
        guard reason != .removeFromCRL else {
            throw CAError(
                .profileViolation, "removeFromCRL is only meaningful in delta CRLs, which this CA does not publish")
        }
        let event = audit("certificate.revoke", serial: canonical, details: ["reason": reason.name], at: now)
        do {
            return try store.revoke(serial: canonical, at: now, reason: reason, audit: event)
        } catch let error as StoreError where error.code == .notFound {
            throw StoreError(
                .notFound, "no certificate with serial \(canonical) was issued by this CA; check `symbolon ca list`")
        }
    }

    /// Canonical serial form: lowercase hex of the integer's bytes without leading zero bytes, as `Certificate.serial`.
    public static func canonicalSerial(_ text: String) throws -> String {
        var digits = text.lowercased().filter { $0 != ":" && $0 != " " }
        if digits.hasPrefix("0x") { digits.removeFirst(2) }
        guard !digits.isEmpty, digits.count <= 64, digits.allSatisfy(\.isHexDigit) else {
            throw CAError(.profileViolation, "\"\(text.prefix(80))\" is not a hexadecimal serial number")
        }
        if digits.count % 2 == 1 { digits = "0" + digits }
        var bytes = stride(from: 0, to: digits.count, by: 2).map { offset -> UInt8 in
            let start = digits.index(digits.startIndex, offsetBy: offset)
            return UInt8(digits[start..<digits.index(start, offsetBy: 2)], radix: 16)!
        }
        while bytes.count > 1, bytes[0] == 0 { bytes.removeFirst() }
        return bytes.hexString
    }

    /// Produces the intermediate's next CRL (every revoked certificate; CRL number one above the last; valid for
    /// `configuration.crlValidity`), records it, and writes it to `intermediate.crl.pem` in the CA directory.
    public func publishCRL(now: Date = Date()) throws -> CertificateRevocationList {
        let revoked = try store.certificates(matching: InventoryFilter(revokedOnly: true))
        let entries = revoked.compactMap { record in
            record.revocation.map {
                CertificateRevocationList.Entry(
                    serial: record.serial, revocationDate: $0.date, reasonCode: $0.reason.code)
            }
        }
        return try publish(
            issuer: .intermediate, certificate: intermediate, key: intermediateKey, entries: entries,
            validity: configuration.crlValidity, file: directory.intermediateCRL, now: now)
    }

    /// Produces the root's CRL, signed with the root key (decrypted with `rootKey`). The root issued only the
    /// intermediate, which is not revoked, so the list is empty; it exists so relying parties that check every CA
    /// in the chain find one.
    public func publishRootCRL(rootKey: PrivateKey, now: Date = Date()) throws -> CertificateRevocationList {
        guard rootKey.matches(root.publicKey) else {
            throw CAError(.badConfiguration, "the given root key does not belong to this CA's root certificate")
        }
        return try publish(
            issuer: .root, certificate: root, key: rootKey, entries: [], validity: configuration.rootCRLValidity,
            file: directory.rootCRL, now: now)
    }

    func publish(
        issuer: CRLIssuer, certificate: Certificate, key: PrivateKey, entries: [CertificateRevocationList.Entry],
        validity: TimeInterval, file: String, now: Date
    ) throws -> CertificateRevocationList {
        let thisUpdate = now.addingTimeInterval(-Self.backdating)
        let nextUpdate = now.addingTimeInterval(validity)
        let record = try store.recordCRL(
            issuer: issuer.rawValue, thisUpdate: thisUpdate, nextUpdate: nextUpdate,
            audit: audit(
                "crl.publish", details: ["issuer": issuer.rawValue, "entries": String(entries.count)], at: now))
        let crl = try CertificateRevocationList.create(
            issuer: certificate, issuerKey: key, number: record.number, thisUpdate: thisUpdate, nextUpdate: nextUpdate,
            entries: entries)
        try SecureFile.write(crl.pemEncoded, to: file)
        return crl
    }

    /// Decrypts the root key, from the CA directory or from `file` when the root is kept offline.
    public func loadRootKey(passphrase: String, file: String? = nil) throws -> PrivateKey {
        let path = file ?? directory.rootKey
        guard FileManager.default.fileExists(atPath: path) else {
            throw CAError(
                .rootKeyOffline,
                file == nil
                    ? "the root key is not in \(directory.path) (offline root); pass the exported key with --root-key FILE"
                    : "\(path): no such file")
        }
        let key: PrivateKey
        do {
            key = try PrivateKey(pemEncoded: SecureFile.readText(path), passphrase: passphrase)
        } catch let error as X509Error {
            throw error.about(file: path)
        }
        guard key.matches(root.publicKey) else {
            throw CAError(.badConfiguration, "\(path) is not the key of this CA's root certificate")
        }
        return key
    }

    /// Copies the (still encrypted) root key to `destination`, after checking the passphrase opens it, so the copy
    /// is known to be usable before the original is removed.
    public func exportRootKey(to destination: String, passphrase: String, now: Date = Date()) throws {
        _ = try loadRootKey(passphrase: passphrase)
        try SecureFile.write(SecureFile.read(directory.rootKey), to: destination, permissions: 0o600, overwrite: false)
        do {
            try store.append(audit("root-key.export", details: ["to": destination], at: now))
        } catch {
            unlink(destination)  // an export the audit log does not show must not exist
            throw error
        }
    }

    /// Deletes the root key from the CA directory (offline root). `exportedCopy` must hold the same key and open
    /// with `passphrase`, so the root can never be lost by accident.
    public func removeRootKey(exportedCopy: String, passphrase: String, now: Date = Date()) throws {
        _ = try loadRootKey(passphrase: passphrase, file: exportedCopy)
        guard FileManager.default.fileExists(atPath: directory.rootKey) else {
            throw CAError(.rootKeyOffline, "the root key is already removed from \(directory.path)")
        }
        try store.append(audit("root-key.remove", details: ["verifiedCopy": exportedCopy], at: now))
        guard unlink(directory.rootKey) == 0 else {
            throw CAError(.badConfiguration, "cannot remove \(directory.rootKey): \(String(cString: strerror(errno)))")
        }
    }
}
