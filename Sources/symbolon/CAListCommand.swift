import CLIKit
import Foundation
import PrivateCA
import X509

/// `symbolon ca list`: the inventory, and an exit code monitoring can use.
struct CAListCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List issued certificates; alert on what expires soon.",
        discussion: """
            With --expiring-within, only certificates that are valid now and expire within that time are listed,
            and the command exits 4 when anything is inside the threshold: such a certificate, a CA certificate,
            or the latest CRL's nextUpdate (or no CRL published yet). Use it from cron or a monitoring check:
              symbolon ca list --dir /var/lib/symbolon --expiring-within 72h || alert
            """)
    static let arguments: [ArgumentSpec] = [
        ArgumentSpecs.directory,
        .option(long: "expiring-within", valueName: "DURATION", help: "Alert threshold, e.g. 72h."),
        .flag(long: "revoked", help: "Only revoked certificates."),
        .option(long: "profile", valueName: "PROFILE", help: "Only this profile."),
        .option(long: "spiffe-id", valueName: "ID", help: "Only this SPIFFE ID."),
        ArgumentSpecs.format,
    ]

    let directory: String
    let threshold: TimeInterval?
    let filter: InventoryFilter
    let format: String

    init(parsed: ParsedArguments) throws {
        directory = try parsed.requiredString("dir")
        threshold = try parsed.duration("expiring-within").map(CommonOptions.seconds)
        filter = InventoryFilter(
            revokedOnly: parsed.flag("revoked"), profile: parsed.string("profile"), spiffeID: parsed.string("spiffe-id")
        )
        format = try parsed.choice("format", among: ["table", "json"])!
    }

    func run() throws -> ExitCode {
        let authority = try CertificateAuthority.open(directory: CADirectory(path: directory))
        let now = Date()
        let report = try authority.inventory(filter: filter, threshold: threshold, now: now)
        if format == "json" {
            try printJSON(report, now: now)
        } else {
            printTable(report, now: now)
        }
        return report.alerts.isEmpty ? .success : .thresholdCrossed
    }

    static func status(_ record: CertificateRecord, now: Date) -> String {
        if record.revocation != nil { return "revoked" }
        if record.notAfter < now { return "expired" }
        return "valid"
    }

    func printTable(_ report: InventoryReport, now: Date) {
        Console.out(
            "root CA expires \(CommonOptions.format(report.rootNotAfter)) (\(CommonOptions.relative(report.rootNotAfter, now: now)))"
        )
        Console.out(
            "intermediate CA expires \(CommonOptions.format(report.intermediateNotAfter)) (\(CommonOptions.relative(report.intermediateNotAfter, now: now)))"
        )
        if let crl = report.latestCRL {
            Console.out(
                "latest CRL #\(crl.number), next update \(CommonOptions.format(crl.nextUpdate)) (\(CommonOptions.relative(crl.nextUpdate, now: now)))"
            )
        } else {
            Console.out("no CRL published yet (symbolon ca crl)")
        }
        Console.out("")
        let header = ["SERIAL", "PROFILE", "STATUS", "NOT AFTER", "IDENTITY"]
        var rows = [header]
        for record in report.certificates {
            var status = Self.status(record, now: now)
            if let revocation = record.revocation { status += " (\(revocation.reason.name))" }
            let identity =
                record.spiffeID
                ?? ([record.subject] + record.subjectAlternativeNames.filter { !$0.hasPrefix("URI:") }).joined(
                    separator: " ")
            rows.append([record.serial, record.profile, status, CommonOptions.format(record.notAfter), identity])
        }
        let widths = (0..<header.count - 1).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            var line = ""
            for (column, cell) in row.enumerated() {
                line +=
                    column < widths.count
                    ? cell.padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0) : cell
            }
            Console.out(line)
        }
        Console.out("\(report.certificates.count) certificate(s)")
        for alert in report.alerts { Console.note("ALERT: \(alert)") }
    }

    struct JSONReport: Encodable {
        struct Entry: Encodable {
            let serial, profile, subject, status, notBefore, notAfter, fingerprintSHA256: String
            let spiffeID: String?
            let names: [String]
            let revokedAt: String?
            let revocationReason: String?
        }
        struct CRL: Encodable {
            let number: UInt64
            let nextUpdate: String
        }
        let rootNotAfter, intermediateNotAfter: String
        let latestCRL: CRL?
        let latestRootCRL: CRL?
        let alerts: [String]
        let certificates: [Entry]
    }

    func printJSON(_ report: InventoryReport, now: Date) throws {
        let crl = { (record: CRLRecord?) in
            record.map { JSONReport.CRL(number: $0.number, nextUpdate: CommonOptions.format($0.nextUpdate)) }
        }
        let json = JSONReport(
            rootNotAfter: CommonOptions.format(report.rootNotAfter),
            intermediateNotAfter: CommonOptions.format(report.intermediateNotAfter),
            latestCRL: crl(report.latestCRL), latestRootCRL: crl(report.latestRootCRL), alerts: report.alerts,
            certificates: report.certificates.map { record in
                JSONReport.Entry(
                    serial: record.serial, profile: record.profile, subject: record.subject,
                    status: Self.status(record, now: now), notBefore: CommonOptions.format(record.notBefore),
                    notAfter: CommonOptions.format(record.notAfter), fingerprintSHA256: record.fingerprintSHA256,
                    spiffeID: record.spiffeID, names: record.subjectAlternativeNames,
                    revokedAt: record.revocation.map { CommonOptions.format($0.date) },
                    revocationReason: record.revocation?.reason.name)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        Console.out(String(decoding: try encoder.encode(json), as: UTF8.self))
    }
}
