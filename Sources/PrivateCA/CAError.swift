/// A refusal or failure of the certificate authority. The code can grow; the reason says what was wrong and what
/// to do.
public struct CAError: Error, CustomStringConvertible, Sendable {
    /// A kind of CA failure. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The request breaks its profile's rules (names, lifetime, subject).
        public static let profileViolation = Code("profileViolation")
        /// A name is outside the CA's trust domain or DNS constraints.
        public static let outsideTrustDomain = Code("outsideTrustDomain")
        /// No such profile.
        public static let unknownProfile = Code("unknownProfile")
        /// A CA exists already where one is being created.
        public static let alreadyInitialized = Code("alreadyInitialized")
        /// No CA where one is expected.
        public static let notInitialized = Code("notInitialized")
        /// The root key is not in the CA directory (offline root) and was not supplied.
        public static let rootKeyOffline = Code("rootKeyOffline")
        /// The CA's configuration or files are inconsistent or unreadable.
        public static let badConfiguration = Code("badConfiguration")
        /// The issued certificate failed the CA's own verification (a bug or a misconfigured profile).
        public static let selfCheckFailed = Code("selfCheckFailed")
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}
