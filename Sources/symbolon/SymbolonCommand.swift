import CLIKit

/// `symbolon`: the root of the command tree.
struct SymbolonCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "symbolon",
        abstract: "Mutual TLS made practical: a private CA, certificate tools, and an mTLS proxy.",
        discussion: """
            Exit codes: 0 success; 1 failure or rejection (the reason is printed); 2 usage error;
            3 a feature this build does not support; 4 an inventory threshold was crossed (ca list).

            Passphrases are never taken from the command line: use --passphrase-file FILE or the
            SYMBOLON_PASSPHRASE environment variable.
            """,
        subcommands: [CACommand.self, CertCommand.self, ExportCommand.self, ProxyCommand.self, VersionCommand.self])
    init(parsed: ParsedArguments) {}
}

/// `symbolon version`.
struct VersionCommand: Command {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")
    init(parsed: ParsedArguments) {}
    func run() throws -> ExitCode {
        Console.out("symbolon \(Self.version)")
        return .success
    }
}

/// `symbolon ca …`.
struct CACommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "Operate the private certificate authority.",
        subcommands: [
            CAInitCommand.self, CAIssueCommand.self, CARevokeCommand.self, CACRLCommand.self, CAListCommand.self,
            CAAuditCommand.self, CAProfilesCommand.self, CARootKeyCommand.self,
        ])
    init(parsed: ParsedArguments) {}
}

/// `symbolon cert …`.
struct CertCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "cert", abstract: "Inspect certificates and check whether a chain would be accepted.",
        subcommands: [CertInspectCommand.self, CertVerifyCommand.self])
    init(parsed: ParsedArguments) {}
}

/// `symbolon export …`.
struct ExportCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Package certificates for other software.",
        subcommands: [ExportP12Command.self])
    init(parsed: ParsedArguments) {}
}

/// `symbolon proxy …`.
struct ProxyCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "proxy", abstract: "Run the mTLS proxy: server (inbound, edge or sidecar) or client (outbound).",
        subcommands: [ProxyServerCommand.self, ProxyClientCommand.self])
    init(parsed: ParsedArguments) {}
}
