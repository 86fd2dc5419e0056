import CLIKit
import Foundation
import X509

/// Reads passphrases from a file or the environment, never from the command line (argv is visible to every
/// user on the machine through /proc).
enum Passphrase {
    static let environmentVariable = "SYMBOLON_PASSPHRASE"

    /// The passphrase from `file` (its first line) or from SYMBOLON_PASSPHRASE; a usage error naming both when
    /// neither is given.
    static func read(file: String?, purpose: String) throws -> String {
        if let file {
            let text = try SecureFile.readText(file)
            let line =
                text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let passphrase = line.hasSuffix("\r") ? String(line.dropLast()) : line
            guard !passphrase.isEmpty else {
                throw UsageError(
                    "\(file): the passphrase file is empty; put the \(purpose) passphrase on its first line")
            }
            return passphrase
        }
        if let value = ProcessInfo.processInfo.environment[environmentVariable], !value.isEmpty { return value }
        throw UsageError(
            "the \(purpose) passphrase is needed: give --passphrase-file FILE or set \(environmentVariable)",
            code: .missingArgument)
    }
}
