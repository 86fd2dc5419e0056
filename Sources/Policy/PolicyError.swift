/// A policy that cannot be loaded or built: bad JSON, an unknown key, a malformed pattern or pin.
///
/// The code can grow; `reason` says what was wrong and what to do; `file` and `path` say where (the JSON path is
/// `rules[2].spiffeId`, or the flag name such as `--allow-spiffe-id` for policies built from flags).
public struct PolicyError: Error, CustomStringConvertible, Sendable {
    /// A kind of policy failure. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, as logs and scripts see it.
        public let name: String
        /// A code with this name; prefer the static members.
        public init(_ name: String) { self.name = name }
        /// The name.
        public var description: String { name }

        /// The input is not well-formed JSON.
        public static let invalidJSON = Code("invalidJSON")
        /// A key the policy format does not know (often a typo).
        public static let unknownKey = Code("unknownKey")
        /// A key appears twice in one JSON object.
        public static let duplicateKey = Code("duplicateKey")
        /// A required key is absent.
        public static let missingKey = Code("missingKey")
        /// A value has the wrong JSON type (a number where a string belongs …).
        public static let wrongType = Code("wrongType")
        /// A rule with no condition, which would otherwise be ambiguous.
        public static let emptyRule = Code("emptyRule")
        /// Keys that cannot appear together in one rule (`any` with a condition).
        public static let conflictingKeys = Code("conflictingKeys")
        /// A value is malformed: a SPIFFE ID pattern, DNS name, URI or SPKI pin.
        public static let invalidValue = Code("invalidValue")
        /// The policy file exceeds the size limit.
        public static let tooLarge = Code("tooLarge")
        /// The policy file could not be read.
        public static let io = Code("io")
    }

    /// What kind of failure this is.
    public let code: Code
    /// What was wrong and what to do, for a person.
    public let reason: String
    /// The policy file, when the policy came from one.
    public var file: String?
    /// Where in the input: a JSON path (`rules[2].spiffeId`) or a flag name (`--allow-dns`).
    public var path: String?

    /// An error with a code, a reason that says what to do, and where it happened when known.
    public init(_ code: Code, _ reason: String, file: String? = nil, path: String? = nil) {
        self.code = code
        self.reason = reason
        self.file = file
        self.path = path
    }

    /// The same error, located at `path` (unless it already has a path).
    func at(_ path: String) -> PolicyError {
        var copy = self
        if copy.path == nil { copy.path = path }
        return copy
    }

    /// `file: path: reason`, leaving out what is unknown.
    public var description: String {
        [file, path, reason].compactMap { $0 }.joined(separator: ": ")
    }
}
