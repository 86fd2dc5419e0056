/// A proxy failure that stops it from starting or reloading: a growable code, what was wrong and what to do,
/// and the file it is about.
public struct ProxyError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }
        /// A credential, bundle, CRL or policy file cannot be read or used.
        public static let badFile = Code("badFile")
        /// The configuration is inconsistent (e.g. no rule allows anyone).
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// The listener could not be opened.
        public static let listenFailed = Code("listenFailed")
    }

    public let code: Code
    public let reason: String
    /// The file the error is about, when there is one.
    public let file: String?

    public init(_ code: Code, _ reason: String, file: String? = nil) {
        self.code = code
        self.reason = reason
        self.file = file
    }

    public var description: String { file.map { "\($0): \(reason)" } ?? reason }
}
