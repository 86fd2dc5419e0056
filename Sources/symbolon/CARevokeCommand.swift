import CLIKit
import Foundation
import PrivateCA
import X509

/// `symbolon ca revoke`.
struct CARevokeCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke a certificate by serial or by file.",
        discussion: """
            Reasons (RFC 5280): unspecified, keyCompromise, cACompromise, affiliationChanged, superseded,
            cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise.
            The revocation reaches relying parties with the next CRL: run `symbolon ca crl` afterwards.
            """)
    static let arguments: [ArgumentSpec] = [
        ArgumentSpecs.directory,
        .option(long: "serial", valueName: "HEX", help: "Serial number (hex; colons allowed)."),
        .option(
            long: "cert", valueName: "FILE", help: "The certificate to revoke (PEM; the first certificate is used)."),
        .option(long: "reason", valueName: "REASON", help: "RFC 5280 reason.", defaultValue: "unspecified"),
    ]

    let directory: String
    let serial: String?
    let certificateFile: String?
    let reason: RevocationReason

    init(parsed: ParsedArguments) throws {
        directory = try parsed.requiredString("dir")
        serial = parsed.string("serial")
        certificateFile = parsed.string("cert")
        let reasonName = try parsed.requiredString("reason")
        guard let reason = RevocationReason(name: reasonName) else {
            throw UsageError(
                "--reason: unknown reason '\(reasonName.prefix(40))'; use one of \(RevocationReason.all.map(\.name).joined(separator: ", "))"
            )
        }
        self.reason = reason
    }

    func validate() throws {
        if (serial == nil) == (certificateFile == nil) {
            throw UsageError("give exactly one of --serial HEX or --cert FILE", code: .invalidCombination)
        }
    }

    func run() throws -> ExitCode {
        let authority = try CertificateAuthority.open(directory: CADirectory(path: directory))
        var target = serial ?? ""
        if let certificateFile {
            let certificate = try Certificate.load(file: certificateFile)[0]
            guard certificate.issuer == authority.intermediate.subject,
                certificate.authorityKeyIdentifier == authority.intermediate.subjectKeyIdentifier
            else {
                throw CAError(
                    .badConfiguration,
                    "\(certificateFile) was not issued by this CA's intermediate (\(authority.intermediate.subject))")
            }
            target = certificate.serial
        }
        let record = try authority.revoke(serial: target, reason: reason)
        Console.out("revoked \(record.serial) (\(record.spiffeID ?? record.subject)), reason \(reason.name)")
        Console.out("publish it with: symbolon ca crl --dir \(directory) --out FILE")
        return .success
    }
}
