import CLIKit
import Foundation
import PrivateCA
import X509

/// `symbolon cert inspect`: a readable summary of certificates, CSRs and CRLs.
struct CertInspectCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Summarise the certificates (and CSRs, CRLs) in a PEM or DER file.")
    static let arguments: [ArgumentSpec] = [
        .positional(name: "FILE", help: "The file to inspect."),
        .option(long: "format", valueName: "FORMAT", help: "Output format: text or json.", defaultValue: "text"),
    ]

    let file: String
    let format: String

    init(parsed: ParsedArguments) throws {
        file = parsed.positional("FILE") ?? ""
        format = try parsed.choice("format", among: ["text", "json"])!
    }

    func run() throws -> ExitCode {
        let data = try SecureFile.read(file)
        var certificates: [Certificate] = []
        var requests: [CertificateSigningRequest] = []
        var crls: [CertificateRevocationList] = []
        do {
            if data.first == 0x30 {
                if let certificate = try? Certificate(der: [UInt8](data)) {
                    certificates = [certificate]
                } else if let crl = try? CertificateRevocationList(der: [UInt8](data)) {
                    crls = [crl]
                } else {
                    requests = [try CertificateSigningRequest(der: [UInt8](data))]
                }
            } else {
                for block in try PEMBlock.parseAll(String(decoding: data, as: UTF8.self)) {
                    switch block.label {
                    case "CERTIFICATE", "TRUSTED CERTIFICATE": certificates.append(try Certificate(der: block.der))
                    case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
                        requests.append(try CertificateSigningRequest(der: block.der))
                    case "X509 CRL": crls.append(try CertificateRevocationList(der: block.der))
                    default: Console.note("skipping a \(block.label) block")
                    }
                }
            }
        } catch let error as X509Error {
            throw error.about(file: file)
        }
        guard !(certificates.isEmpty && requests.isEmpty && crls.isEmpty) else {
            throw X509Error(.malformedInput, "no certificate, CSR or CRL found", file: file)
        }
        if format == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Console.out(String(decoding: try encoder.encode(certificates.map(CertificateSummary.init)), as: UTF8.self))
            return .success
        }
        let now = Date()
        for (index, certificate) in certificates.enumerated() {
            if certificates.count > 1 { Console.out("Certificate \(index + 1) of \(certificates.count)") }
            Console.out(Self.describe(certificate, now: now))
        }
        for request in requests {
            Console.out("Certificate request")
            Console.out("  Subject:     \(request.subject)")
            Console.out("  Names:       \(request.subjectAlternativeNames.map(\.description).joined(separator: ", "))")
            Console.out("  Key:         \(request.publicKey) (SPKI pin \(request.publicKey.spkiSHA256Pin))")
            Console.out(
                "  Signature:   \(request.isSignatureValid ? "valid (the requester holds the key)" : "INVALID: does not verify with its own key")"
            )
            Console.out("")
        }
        for crl in crls {
            Console.out("CRL #\(crl.number.map(String.init) ?? "-") by \(crl.issuer)")
            Console.out("  This update: \(CommonOptions.format(crl.thisUpdate))")
            Console.out(
                "  Next update: \(crl.nextUpdate.map { "\(CommonOptions.format($0)) (\(CommonOptions.relative($0, now: now)))" } ?? "-")"
            )
            Console.out("  Revoked:     \(crl.entries.count)")
            for entry in crl.entries {
                let reason = entry.reasonCode.map { RevocationReason(code: $0)?.name ?? "code \($0)" } ?? "unspecified"
                Console.out("    \(entry.serial)  \(CommonOptions.format(entry.revocationDate))  \(reason)")
            }
            Console.out("")
        }
        return .success
    }

    static func describe(_ certificate: Certificate, now: Date) -> String {
        var lines: [String] = []
        func add(_ label: String, _ value: String) {
            lines.append("  " + (label + ":").padding(toLength: 22, withPad: " ", startingAt: 0) + value)
        }
        let identity =
            certificate.spiffeID?.description ?? certificate.subject.commonName ?? certificate.subject.description
        lines.append(certificate.isCA ? "CA certificate: \(identity)" : "Certificate: \(identity)")
        add("Subject", certificate.subject.description)
        add("Issuer", certificate.issuer.description + (certificate.isSelfSigned ? " (self-signed)" : ""))
        add("Serial", certificate.serial)
        if let id = certificate.spiffeID { add("SPIFFE ID", id.description) }
        if !certificate.subjectAlternativeNames.isEmpty {
            add("Names", certificate.subjectAlternativeNames.map(\.description).joined(separator: ", "))
        }
        add("Not before", CommonOptions.format(certificate.notBefore))
        let left = certificate.notAfter.timeIntervalSince(now)
        add(
            "Not after",
            "\(CommonOptions.format(certificate.notAfter)) (\(left >= 0 ? "\(CommonOptions.describe(left)) left" : "EXPIRED \(CommonOptions.describe(-left)) ago"))"
        )
        add("Key", "\(certificate.publicKey)")
        add("Signature", certificate.signatureAlgorithm)
        if let constraints = certificate.basicConstraints {
            add(
                "Basic constraints",
                constraints.isCA ? "CA" + (constraints.pathLength.map { ", path length \($0)" } ?? "") : "not a CA")
        }
        if let usage = certificate.keyUsage { add("Key usage", usage.description) }
        if let usages = certificate.extendedKeyUsage {
            add("Extended key usage", usages.map(\.description).joined(separator: ", "))
        }
        if let constraints = certificate.nameConstraints {
            add(
                "Name constraints",
                "permitted: " + constraints.permitted.map(\.description).joined(separator: ", ")
                    + (constraints.excluded.isEmpty
                        ? "" : "; excluded: " + constraints.excluded.map(\.description).joined(separator: ", ")))
        }
        if !certificate.crlDistributionPoints.isEmpty {
            add("CRL", certificate.crlDistributionPoints.joined(separator: ", "))
        }
        if !certificate.ocspURLs.isEmpty { add("OCSP", certificate.ocspURLs.joined(separator: ", ")) }
        if let ski = certificate.subjectKeyIdentifier { add("Subject key id", ski.colonHexString) }
        if let aki = certificate.authorityKeyIdentifier { add("Authority key id", aki.colonHexString) }
        add("SHA-256 fingerprint", certificate.fingerprintSHA256.colonHexString)
        add("SPKI pin (SHA-256)", certificate.publicKey.spkiSHA256Pin)
        return lines.joined(separator: "\n") + "\n"
    }
}

/// The JSON form of `cert inspect`.
struct CertificateSummary: Encodable {
    let subject, issuer, serial, notBefore, notAfter, key, signatureAlgorithm, sha256Fingerprint, spkiPin: String
    let spiffeID: String?
    let names: [String]
    let isCA: Bool
    let pathLength: Int?
    let keyUsage: [String]?
    let extendedKeyUsage: [String]?
    let crlDistributionPoints, ocspURLs: [String]

    init(_ certificate: Certificate) {
        subject = certificate.subject.description
        issuer = certificate.issuer.description
        serial = certificate.serial
        notBefore = CommonOptions.format(certificate.notBefore)
        notAfter = CommonOptions.format(certificate.notAfter)
        key = certificate.publicKey.description
        signatureAlgorithm = certificate.signatureAlgorithm
        sha256Fingerprint = certificate.fingerprintSHA256.hexString
        spkiPin = certificate.publicKey.spkiSHA256Pin
        spiffeID = certificate.spiffeID?.description
        names = certificate.subjectAlternativeNames.map(\.description)
        isCA = certificate.isCA
        pathLength = certificate.basicConstraints?.pathLength
        keyUsage = certificate.keyUsage?.names
        extendedKeyUsage = certificate.extendedKeyUsage?.map(\.description)
        crlDistributionPoints = certificate.crlDistributionPoints
        ocspURLs = certificate.ocspURLs
    }
}
