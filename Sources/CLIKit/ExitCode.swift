/// The status a `symbolon` process reports to its caller, so that scripts can branch on the outcome.
///
/// The named codes are the binary's contract with scripts. Add new ones here rather than returning bare
/// numbers from commands, so that every code in use is documented in one place.
public struct ExitCode: Hashable, Sendable, CustomStringConvertible {
    /// The number handed to `exit(3)`.
    public let rawValue: Int32

    /// Creates an exit code from the number the process will report.
    public init(_ rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// 0: the command did what was asked.
    public static let success = ExitCode(0)
    /// 1: the command failed while doing its work; also the code of any error that does not choose one.
    public static let failure = ExitCode(1)
    /// 2: the command line was wrong (unknown option, missing value, unknown subcommand, failed validation).
    public static let usage = ExitCode(2)
    /// 3: the request was well formed but this build or platform cannot carry it out.
    public static let unsupported = ExitCode(3)
    /// 4: the command succeeded and found something past a threshold (for example certificates expiring
    /// soon), so that monitoring scripts can alert without parsing output.
    public static let thresholdCrossed = ExitCode(4)

    /// Whether this code reports success (0).
    public var isSuccess: Bool { rawValue == 0 }

    /// The number, as a script would see it in `$?`.
    public var description: String { String(rawValue) }
}
