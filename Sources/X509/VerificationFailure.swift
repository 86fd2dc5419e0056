/// Why a chain was rejected: a code scripts and logs can match on, a reason for people, and where in the chain.
public struct VerificationFailure: Error, Sendable, CustomStringConvertible, Equatable {
    /// A kind of rejection. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        public static let expired = Code("expired")
        public static let notYetValid = Code("notYetValid")
        /// No path to a trusted root: unknown issuer, or a self-signed certificate that is not a trusted root.
        public static let unknownIssuer = Code("unknownIssuer")
        public static let badSignature = Code("badSignature")
        /// The leaf (or a CA in the chain) is not allowed for the purpose or EKU asked for.
        public static let wrongPurpose = Code("wrongPurpose")
        public static let nameConstraintViolation = Code("nameConstraintViolation")
        /// More intermediates than a CA's path length or the policy's maximum allows.
        public static let pathLengthExceeded = Code("pathLengthExceeded")
        public static let revoked = Code("revoked")
        /// Revocation could not be decided: no CRL for a CA in the chain, or the CRL is not valid now.
        public static let revocationUnknown = Code("revocationUnknown")
        /// A certificate that issues others is not a CA (basic constraints, key usage).
        public static let notACA = Code("notACA")
        /// The leaf does not carry a required DNS name, IP address, e-mail address or URI.
        public static let nameMismatch = Code("nameMismatch")
        /// A certificate breaks RFC 5280 rules checked in strict mode (missing key identifiers, bad encodings …).
        public static let invalidCertificate = Code("invalidCertificate")
        /// Anything else OpenSSL reports.
        public static let other = Code("other")
    }

    public let code: Code
    /// What was wrong, for a person: names the certificate and the rule.
    public let reason: String
    /// Position in the chain of the certificate concerned: 0 the leaf, 1 its issuer …
    public let depth: Int?

    public init(_ code: Code, _ reason: String, depth: Int? = nil) {
        self.code = code
        self.reason = reason
        self.depth = depth
    }

    public var description: String { "\(code): \(reason)" }
}
