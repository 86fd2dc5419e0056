import Foundation
import X509

/// What `ca list` shows: the filtered inventory, the CA's own expiry and CRL freshness, and what needs attention.
public struct InventoryReport: Sendable {
    public let certificates: [CertificateRecord]
    public let rootNotAfter: Date
    public let intermediateNotAfter: Date
    public let latestCRL: CRLRecord?
    public let latestRootCRL: CRLRecord?
    /// Everything inside the alert threshold, one sentence each. Empty when no threshold was given.
    public let alerts: [String]
}

extension CertificateAuthority {
    /// The inventory, filtered. With `threshold`, the report also lists as alerts every valid certificate, CA
    /// certificate and CRL that expires (or is due for renewal) within it, and the filter keeps only certificates
    /// expiring within it.
    public func inventory(
        filter: InventoryFilter = InventoryFilter(), threshold: TimeInterval? = nil, now: Date = Date()
    )
        throws -> InventoryReport
    {
        var filter = filter
        var alerts: [String] = []
        let latestCRL = try store.latestCRL(issuer: CRLIssuer.intermediate.rawValue)
        let latestRootCRL = try store.latestCRL(issuer: CRLIssuer.root.rawValue)
        if let threshold {
            let horizon = now.addingTimeInterval(threshold)
            filter.expiringBefore = horizon
            let format = ISO8601DateFormatter()
            for (label, certificate) in [("root CA", root), ("intermediate CA", intermediate)]
            where certificate.notAfter < horizon {
                alerts.append("the \(label) certificate expires at \(format.string(from: certificate.notAfter))")
            }
            if let crl = latestCRL {
                if crl.nextUpdate < horizon {
                    alerts.append(
                        "the intermediate CRL #\(crl.number) is due at \(format.string(from: crl.nextUpdate)); run `symbolon ca crl`"
                    )
                }
            } else {
                alerts.append("no CRL has been published yet; run `symbolon ca crl`")
            }
            if let crl = latestRootCRL, crl.nextUpdate < horizon {
                alerts.append(
                    "the root CRL #\(crl.number) is due at \(format.string(from: crl.nextUpdate)); run `symbolon ca crl --issuer root`"
                )
            }
        }
        var certificates = try store.certificates(matching: filter)
        if threshold != nil {
            certificates = certificates.filter { $0.notAfter > now }
            for record in certificates {
                alerts.append(
                    "certificate \(record.serial) (\(record.spiffeID ?? record.subject)) expires at \(ISO8601DateFormatter().string(from: record.notAfter))"
                )
            }
        }
        return InventoryReport(
            certificates: certificates, rootNotAfter: root.notAfter, intermediateNotAfter: intermediate.notAfter,
            latestCRL: latestCRL, latestRootCRL: latestRootCRL, alerts: alerts)
    }
}
