import CLIKit
import Foundation
import X509

/// `symbolon cert verify`: would this chain be accepted, and if not, why?
struct CertVerifyCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check whether a chain would be accepted, and say why not.",
        discussion: """
            Uses the same verifier as the CA's self-check (and the proxy): trust comes only from --roots, strict
            RFC 5280 checks. With --crls, revocation is checked for every certificate below the root, and a CA in
            the chain without a (current) CRL is a rejection. --max-depth counts intermediates.

            Exit codes: 0 accepted; 1 rejected (the reason is printed); 2 usage; 3 a feature not supported
            (an unknown --eku or --purpose).
            """)
    static let arguments: [ArgumentSpec] = [
        .option(long: "roots", valueName: "FILE", help: "Trusted root certificates (PEM bundle).", isRequired: true),
        .option(
            long: "leaf", valueName: "FILE", help: "The certificate to check (a chain file: leaf first).",
            isRequired: true),
        .option(
            long: "intermediates", valueName: "FILE", help: "Untrusted intermediates (PEM bundle).", isRepeating: true),
        .option(long: "crls", valueName: "FILE", help: "CRLs (PEM); enables revocation checking.", isRepeating: true),
        .option(
            long: "time", valueName: "RFC3339", help: "Check at this time instead of now, e.g. 2027-01-01T00:00:00Z."),
        .option(long: "purpose", valueName: "PURPOSE", help: "client or server (TLS)."),
        .option(
            long: "eku", valueName: "NAME", help: "An extended key usage the leaf must list (name or OID).",
            isRepeating: true),
        .option(long: "dns-name", valueName: "NAME", help: "A DNS name the leaf must match.", isRepeating: true),
        .option(
            long: "ip-address", valueName: "ADDRESS", help: "An IP address the leaf must carry.", isRepeating: true),
        .option(long: "email", valueName: "ADDRESS", help: "An e-mail address the leaf must carry.", isRepeating: true),
        .option(long: "uri", valueName: "URI", help: "A URI (e.g. SPIFFE ID) the leaf must carry.", isRepeating: true),
        .option(long: "max-depth", valueName: "N", help: "Most intermediates allowed."),
        .flag(long: "quiet", help: "Print nothing on acceptance; only the reason on rejection."),
    ]

    let roots: String
    let leaf: String
    let intermediates: [String]
    let crls: [String]
    let time: Date
    let purpose: String?
    let ekus: [String]
    let names: [SubjectAlternativeName]
    let maxDepth: Int?
    let quiet: Bool

    init(parsed: ParsedArguments) throws {
        roots = try parsed.requiredString("roots")
        leaf = try parsed.requiredString("leaf")
        intermediates = parsed.strings("intermediates")
        crls = parsed.strings("crls")
        if let text = parsed.string("time") {
            guard let date = Self.parseTime(text) else {
                throw UsageError(
                    "--time expects an RFC 3339 time such as 2027-01-01T00:00:00Z; got '\(text.prefix(40))'")
            }
            time = date
        } else {
            time = Date()
        }
        purpose = parsed.string("purpose")
        ekus = parsed.strings("eku")
        names =
            parsed.strings("dns-name").map { .dns($0) } + parsed.strings("ip-address").map { .ipAddress($0) }
            + parsed.strings("email").map { .email($0) } + parsed.strings("uri").map { .uri($0) }
        maxDepth = try parsed.int("max-depth")
        quiet = parsed.flag("quiet")
    }

    func validate() throws {
        if let maxDepth, maxDepth < 0 { throw UsageError("--max-depth must be 0 or more") }
    }

    static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    func run() throws -> ExitCode {
        var policy = VerificationPolicy(time: time, maximumIntermediates: maxDepth)
        if let purpose {
            guard let parsed = VerificationPolicy.Purpose(name: purpose) else {
                throw UnsupportedFeature("--purpose \(purpose.prefix(40)) is not supported; use client or server")
            }
            policy.purpose = parsed
        }
        for name in ekus {
            guard let usage = ExtendedKeyUsage(name: name) else {
                throw UnsupportedFeature(
                    "--eku \(name.prefix(40)) is not a known extended key usage; use serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning or a dotted OID"
                )
            }
            policy.requiredExtendedKeyUsages.append(usage)
        }
        policy.requiredNames = names

        let outcome: Result<[Certificate], VerificationFailure>
        do {
            let trust = try Certificate.load(file: roots)
            let presented = try Certificate.load(file: leaf)
            var untrusted = Array(presented.dropFirst())
            for file in intermediates { untrusted += try Certificate.load(file: file) }
            if !crls.isEmpty {
                policy.crls = try crls.flatMap { try CertificateRevocationList.load(file: $0) }
            }
            outcome = ChainVerifier(trustRoots: trust).verify(
                leaf: presented[0], intermediates: untrusted, policy: policy)
        } catch let error as X509Error {
            Console.out("rejected: \(error)")
            return .failure
        }
        switch outcome {
        case .success(let chain):
            if !quiet {
                Console.out("accepted: \(chain.count) certificates")
                for (depth, certificate) in chain.enumerated() {
                    Console.out(
                        "  \(depth): \(certificate.subject) (expires \(CommonOptions.format(certificate.notAfter)))")
                }
            }
            return .success
        case .failure(let failure):
            Console.out("rejected (\(failure.code)): \(failure.reason)")
            return .failure
        }
    }
}

/// A request for something this build does not do: exit code 3.
struct UnsupportedFeature: Error, ExitCodeProviding, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
    var exitCode: ExitCode { .unsupported }
}
