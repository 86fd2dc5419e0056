/// A failure in the X.509 layer: malformed input, a wrong passphrase, a refused signature.
///
/// The code can grow; `reason` says what was wrong and what to do; `file` names the input it is about when known;
/// `openSSLErrors` carries OpenSSL's own error queue, drained at the moment of failure.
public struct X509Error: Error, CustomStringConvertible, Sendable {
    /// A kind of X.509 failure. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Input is not valid PEM or DER of the expected kind.
        public static let malformedInput = Code("malformedInput")
        /// An encrypted key needs a passphrase that was not given.
        public static let passphraseRequired = Code("passphraseRequired")
        /// The passphrase does not decrypt the key.
        public static let wrongPassphrase = Code("wrongPassphrase")
        /// A signature (CSR self-signature, CRL signature) does not verify.
        public static let badSignature = Code("badSignature")
        /// A value (SPIFFE ID, DNS name, IP address, e-mail, key size …) is not acceptable.
        public static let invalidValue = Code("invalidValue")
        /// Input exceeds a size limit.
        public static let tooLarge = Code("tooLarge")
        /// A file could not be read or written.
        public static let io = Code("io")
        /// OpenSSL failed where it should not (out of memory, internal error).
        public static let internalError = Code("internalError")
        /// Asked for something this build does not support.
        public static let unsupported = Code("unsupported")
    }

    public let code: Code
    /// What was wrong and what to do, for a person.
    public let reason: String
    /// The file the error is about, when known.
    public var file: String?
    /// OpenSSL's error queue at the time of failure, oldest first.
    public let openSSLErrors: [String]

    public init(_ code: Code, _ reason: String, file: String? = nil, openSSLErrors: [String] = []) {
        self.code = code
        self.reason = reason
        self.file = file
        self.openSSLErrors = openSSLErrors
    }

    /// The same error, attributed to `file`.
    public func about(file: String) -> X509Error {
        var copy = self
        copy.file = file
        return copy
    }

    public var description: String {
        var text = file.map { "\($0): \(reason)" } ?? reason
        if let detail = openSSLErrors.last { text += " (openssl: \(detail))" }
        return text
    }
}
