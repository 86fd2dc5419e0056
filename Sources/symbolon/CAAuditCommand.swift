import CLIKit
import Foundation
import PrivateCA

/// `symbolon ca audit`: read the append-only audit log.
struct CAAuditCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Show the CA's append-only audit log (oldest first).")
    static let arguments: [ArgumentSpec] = [
        ArgumentSpecs.directory,
        .option(long: "limit", valueName: "N", help: "Only the last N events."),
        .option(long: "format", valueName: "FORMAT", help: "Output format: text or json.", defaultValue: "text"),
    ]

    let directory: String
    let limit: Int?
    let format: String

    init(parsed: ParsedArguments) throws {
        directory = try parsed.requiredString("dir")
        limit = try parsed.int("limit")
        format = try parsed.choice("format", among: ["text", "json"])!
    }

    func validate() throws {
        if let limit, limit < 1 { throw UsageError("--limit must be at least 1") }
    }

    func run() throws -> ExitCode {
        let store = try SQLiteCertificateStore(path: CADirectory(path: directory).database, createIfMissing: false)
        let events = try store.auditEvents(limit: limit)
        if format == "json" {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for event in events { Console.out(String(decoding: try encoder.encode(event), as: UTF8.self)) }
        } else {
            for event in events {
                let details = event.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                    separator: " ")
                Console.out(
                    "\(CommonOptions.format(event.time)) \(event.actor) \(event.action)\(event.serial.map { " " + $0 } ?? "") \(details)"
                )
            }
        }
        return .success
    }
}
