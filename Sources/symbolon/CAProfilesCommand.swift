import CLIKit
import Foundation
import PrivateCA

/// `symbolon ca profiles`: what each profile allows.
struct CAProfilesCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "profiles", abstract: "List the issuance profiles (built-in and <dir>/profiles.json).")
    static let arguments: [ArgumentSpec] = [
        .option(long: "dir", valueName: "DIR", help: "A CA directory whose custom profiles to include."),
        .option(long: "format", valueName: "FORMAT", help: "Output format: table or json.", defaultValue: "table"),
    ]

    let directory: String?
    let format: String

    init(parsed: ParsedArguments) throws {
        directory = parsed.string("dir")
        format = try parsed.choice("format", among: ["table", "json"])!
    }

    func run() throws -> ExitCode {
        var profiles = CertificateProfile.builtIn
        if let directory {
            let file = CADirectory(path: directory).profiles
            if FileManager.default.fileExists(atPath: file) {
                for custom in try CertificateAuthority.loadCustomProfiles(file: file) {
                    profiles.removeAll { $0.name == custom.name }
                    profiles.append(custom)
                }
            }
        }
        if format == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Console.out(String(decoding: try encoder.encode(profiles), as: UTF8.self))
            return .success
        }
        for profile in profiles {
            Console.out("\(profile.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(profile.summary)")
            Console.out(
                "           EKU \(profile.extendedKeyUsage.joined(separator: "+")); names \(profile.allowedNames.map(\.rawValue).joined(separator: ",")); default \(CommonOptions.describe(profile.defaultLifetime)), max \(CommonOptions.describe(profile.maximumLifetime))\(profile.expiryJitter > 0 ? ", expiry jitter \(Int(profile.expiryJitter * 100))%" : "")"
            )
        }
        return .success
    }
}
