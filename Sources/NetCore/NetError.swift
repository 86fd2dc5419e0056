internal import Glibc

/// A failure in the network layer: a bad address, a refused connection, a system call that failed.
///
/// The code can grow; `reason` says what was wrong and what to do; `operation` names the call or step that failed
/// (`"bind"`, `"connect"`, `"parse address"` …); `errno` carries the system error number when there was one.
public struct NetError: Error, CustomStringConvertible, Sendable {
    /// A kind of network failure. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name, as it appears in logs.
        public let name: String
        /// A code with the given name; use the static members rather than minting new names ad hoc.
        public init(_ name: String) { self.name = name }
        /// The code's name.
        public var description: String { name }

        /// Text that is not an address in one of the accepted forms.
        public static let invalidAddress = Code("invalidAddress")
        /// A host name that did not resolve.
        public static let resolutionFailed = Code("resolutionFailed")
        /// Something else is bound to (listening on) the address.
        public static let addressInUse = Code("addressInUse")
        /// The address is not one this host can bind (not assigned to an interface).
        public static let addressNotAvailable = Code("addressNotAvailable")
        /// The operating system refused for lack of privilege (low port, file permissions).
        public static let permissionDenied = Code("permissionDenied")
        /// Nothing accepted the connection (ECONNREFUSED, or no unix socket file).
        public static let connectionRefused = Code("connectionRefused")
        /// The peer reset the connection or the pipe broke while writing.
        public static let connectionReset = Code("connectionReset")
        /// An operation (connect) did not finish within its time limit.
        public static let timedOut = Code("timedOut")
        /// The network or host cannot be reached.
        public static let unreachable = Code("unreachable")
        /// The process or system ran out of file descriptors.
        public static let tooManyOpenFiles = Code("tooManyOpenFiles")
        /// The event loop stopped while the channel or operation was still open.
        public static let loopShutDown = Code("loopShutDown")
        /// Any other system call failure; `errno` says which.
        public static let systemCallFailed = Code("systemCallFailed")
    }

    /// What kind of failure this is.
    public let code: Code
    /// The system error number, when a system call failed.
    public let errno: Int32?
    /// The call or step that failed, such as `"bind"` or `"connect"`.
    public let operation: String
    /// What was wrong and what to do, for a person.
    public let reason: String

    /// An error with an explicit code and reason.
    public init(_ code: Code, operation: String, reason: String, errno: Int32? = nil) {
        self.code = code
        self.operation = operation
        self.reason = reason
        self.errno = errno
    }

    /// `operation: reason`, followed by the errno and its text when there was one.
    public var description: String {
        var text = "\(operation): \(reason)"
        if let errno { text += " (errno \(errno): \(NetError.systemText(errno)))" }
        return text
    }

    static func systemText(_ number: Int32) -> String {
        guard let text = strerror(number) else { return "unknown error" }
        return String(cString: text)
    }

    /// The error for a failed system call, with a reason that names `subject` (an address or path) and suggests
    /// what to check.
    init(errno number: Int32, operation: String, subject: String? = nil) {
        let about = subject.map { ": \($0)" } ?? ""
        let code: Code
        let reason: String
        switch number {
        case EADDRINUSE:
            code = .addressInUse
            reason = "address already in use\(about) — is another process listening?"
        case EADDRNOTAVAIL:
            code = .addressNotAvailable
            reason = "address not available\(about) — is the IP address assigned to a local interface?"
        case EACCES, EPERM:
            code = .permissionDenied
            reason =
                "permission denied\(about) — ports below 1024 need CAP_NET_BIND_SERVICE; unix sockets need "
                + "write access to the directory"
        case ECONNREFUSED:
            code = .connectionRefused
            reason = "connection refused\(about) — is the server running and listening there?"
        case ENOENT where operation == "connect":
            code = .connectionRefused
            reason = "no unix socket file\(about) — is the server running?"
        case ECONNRESET:
            code = .connectionReset
            reason = "connection reset by peer\(about)"
        case EPIPE:
            code = .connectionReset
            reason = "the peer closed the connection before taking all bytes\(about)"
        case ETIMEDOUT:
            code = .timedOut
            reason = "timed out\(about) — is the host up and the port not filtered?"
        case ENETUNREACH, EHOSTUNREACH:
            code = .unreachable
            reason = "network or host unreachable\(about) — check the route to the host"
        case EMFILE, ENFILE:
            code = .tooManyOpenFiles
            reason = "out of file descriptors\(about) — raise the limit (ulimit -n) or reduce open connections"
        default:
            code = .systemCallFailed
            reason = "\(operation) failed\(about)"
        }
        self.init(code, operation: operation, reason: reason, errno: number)
    }
}
