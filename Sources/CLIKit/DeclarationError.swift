/// A mistake in a command's declarations (not the user's): two options with one name, a repeating positional
/// that is not last, a default subcommand that loops, and so on.
///
/// Reported like any other failure (`error: …`, exit 1) rather than trapping, so that a broken table shows up
/// as a readable message in the first test that touches the command.
struct DeclarationError: Error, CustomStringConvertible {
    /// What is wrong and how to fix the declaration.
    let reason: String
    /// The command whose declaration is wrong, e.g. `["symbolon", "ca", "issue"]`.
    let commandPath: [String]

    var description: String {
        "command '\(commandPath.joined(separator: " "))' is declared wrongly: \(reason)"
    }
}
