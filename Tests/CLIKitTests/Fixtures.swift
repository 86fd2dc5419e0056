import CLIKit

// A small `symbolon` command tree shaped like the real one; each leaf returns its own exit code so that
// tests can see which command ran without any shared state.

struct Symbolon: Command {
    static let configuration = CommandConfiguration(
        commandName: "symbolon",
        abstract: "Mutual TLS made practical: a private CA, a proxy and the automation around them.",
        subcommands: [CertificateAuthority.self, Agent.self, Fail.self])
    init(parsed: ParsedArguments) {}
}

struct CertificateAuthority: Command {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Operate the private certificate authority.",
        subcommands: [Issue.self, List.self, Revoke.self])
    init(parsed: ParsedArguments) {}
}

struct Issue: Command {
    static let exitCode = ExitCode(10)
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue a certificate for a workload.",
        discussion: """
            Signs with the online intermediate and records the certificate in the inventory.

            Example:
              symbolon ca issue --dir /var/lib/ca --profile service --dns api.internal
            """)
    static let arguments: [ArgumentSpec] = [
        .option(long: "dir", valueName: "DIR", help: "The CA directory.", isRequired: true),
        .option(long: "profile", valueName: "PROFILE", help: "The issuance profile.", isRequired: true),
        .option(long: "dns", valueName: "NAME", help: "A DNS name to include.", isRepeating: true),
        .option(long: "cn", valueName: "NAME", help: "The subject common name."),
        .option(
            long: "out-cert", short: "o", valueName: "FILE", help: "Where to write the certificate.",
            defaultValue: "cert.pem"),
        .option(
            long: "validity", valueName: "DURATION", help: "How long the certificate is valid.", defaultValue: "24h"),
        .flag(long: "dry-run", short: "n", help: "Show what would be issued without issuing it."),
        .positional(name: "CSR", help: "A certificate signing request to sign instead of a new key.", isOptional: true),
    ]

    let directory: String
    let profile: String
    let dnsNames: [String]
    let commonName: String?
    let outCert: String
    let validity: Duration
    let dryRun: Bool
    let csr: String?

    init(parsed: ParsedArguments) throws {
        directory = try parsed.requiredString("dir")
        profile = try parsed.requiredString("profile")
        dnsNames = parsed.strings("dns")
        commonName = parsed.string("cn")
        outCert = try parsed.requiredString("out-cert")
        validity = try parsed.duration("validity") ?? .seconds(86_400)
        dryRun = parsed.flag("dry-run")
        csr = parsed.positional("CSR")
    }

    func validate() throws {
        if dnsNames.isEmpty && commonName == nil {
            throw UsageError("give at least one --dns NAME or a --cn NAME", code: .invalidCombination)
        }
    }

    func run() throws -> ExitCode { Self.exitCode }
}

struct List: Command {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List issued certificates.")
    static let arguments: [ArgumentSpec] = [
        .option(long: "format", valueName: "FORMAT", help: "Output format: table or json.", defaultValue: "table"),
        .option(long: "max-depth", valueName: "N", help: "How deep to descend."),
        .option(long: "expiring-within", valueName: "DURATION", help: "Exit 4 if any certificate expires this soon."),
        .positional(name: "FILTER", help: "Subject filters.", isOptional: true, isRepeating: true),
    ]

    let format: String
    let maxDepth: Int?
    let expiringWithin: Duration?
    let filters: [String]

    init(parsed: ParsedArguments) throws {
        format = try parsed.choice("format", among: ["table", "json"]) ?? "table"
        maxDepth = try parsed.int("max-depth")
        expiringWithin = try parsed.duration("expiring-within")
        filters = parsed.positionals("FILTER")
    }

    func run() throws -> ExitCode {
        expiringWithin == nil ? .success : .thresholdCrossed
    }
}

struct Revoke: Command {
    static let exitCode = ExitCode(11)
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a certificate by serial.")
    static let arguments: [ArgumentSpec] = [
        .positional(name: "SERIAL", help: "The serial number, in hex."),
        .option(long: "reason", valueName: "REASON", help: "The CRL reason code."),
    ]

    let serial: String
    let reason: String?

    init(parsed: ParsedArguments) throws {
        serial = parsed.positional("SERIAL") ?? ""
        reason = parsed.string("reason")
    }

    func run() throws -> ExitCode { Self.exitCode }
}

struct Agent: Command {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Enroll and renew this workload's certificate.",
        subcommands: [Status.self, Renew.self], defaultSubcommand: Status.self)
    init(parsed: ParsedArguments) {}
}

struct Status: Command {
    static let exitCode = ExitCode(20)
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the certificate's state.")
    static let arguments: [ArgumentSpec] = [.flag(long: "verbose", short: "v", help: "Say more.")]
    init(parsed: ParsedArguments) {}
    func run() throws -> ExitCode { Self.exitCode }
}

struct Renew: Command {
    static let exitCode = ExitCode(21)
    static let configuration = CommandConfiguration(commandName: "renew", abstract: "Renew now.")
    init(parsed: ParsedArguments) {}
    func run() throws -> ExitCode { Self.exitCode }
}

/// An error without an exit code of its own.
struct StoreLocked: Error, CustomStringConvertible {
    var description: String { "the store is locked by another process; retry when it exits" }
}

/// An error that chooses exit code 3.
struct AlgorithmUnsupported: ExitCodeProviding, CustomStringConvertible {
    var exitCode: ExitCode { .unsupported }
    var description: String { "ed448 keys are not supported by this build; use ed25519" }
}

struct Fail: Command {
    static let configuration = CommandConfiguration(commandName: "fail", abstract: "Fail in a chosen way.")
    static let arguments: [ArgumentSpec] = [
        .option(long: "kind", valueName: "KIND", help: "plain, custom or usage.", isRequired: true)
    ]
    let kind: String
    init(parsed: ParsedArguments) throws {
        kind = try parsed.choice("kind", among: ["plain", "custom", "usage"]) ?? ""
    }
    func run() throws -> ExitCode {
        switch kind {
        case "plain": throw StoreLocked()
        case "custom": throw AlgorithmUnsupported()
        default: throw UsageError("--kind usage always fails; pick another kind", code: .invalidCombination)
        }
    }
}

/// Declares `--dir` twice.
struct Broken: Command {
    static let configuration = CommandConfiguration(commandName: "broken", abstract: "Declared wrongly.")
    static let arguments: [ArgumentSpec] = [
        .option(long: "dir", help: "One."),
        .option(long: "dir", help: "Two."),
    ]
    init(parsed: ParsedArguments) {}
    func run() throws -> ExitCode { .success }
}

/// What one run of the runner produced.
struct Outcome {
    let code: ExitCode
    let output: String
    let errorOutput: String
}

func invoke(_ arguments: [String], root: any Command.Type = Symbolon.self) -> Outcome {
    var output = ""
    var errorOutput = ""
    let code = CommandRunner.run(root, arguments: arguments, output: &output, errorOutput: &errorOutput)
    return Outcome(code: code, output: output, errorOutput: errorOutput)
}

/// The usage error thrown by `body`, or `nil` when it throws nothing or something else.
func usageError(_ body: () throws -> Any) -> UsageError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? UsageError
    }
}
