/// An error that chooses the exit code the process reports when the error ends a command.
///
/// `CommandRunner` is the one place that turns errors into exit codes: errors conforming to this protocol
/// report their own code, every other error reports `ExitCode.failure`.
public protocol ExitCodeProviding: Error {
    /// The exit code to report when this error ends the process.
    var exitCode: ExitCode { get }
}
