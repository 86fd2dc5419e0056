/// Why a TLS operation failed: a growable code, a reason that says what was wrong and what to do, and the
/// library's own error name when it came from GnuTLS.
public struct TLSError: Error, Sendable, CustomStringConvertible {
    /// A category of TLS failure. New codes may be added; match on the ones you handle.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The configuration cannot be used (bad certificate, key or bundle); nothing was started.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// The peer sent no certificate where one is required.
        public static let peerCertificateMissing = Code("peerCertificateMissing")
        /// The peer's certificate chain was rejected by our verifier (the reason says why).
        public static let peerCertificateRejected = Code("peerCertificateRejected")
        /// The peer is authenticated but the authorization policy does not allow it.
        public static let peerNotAuthorized = Code("peerNotAuthorized")
        /// The handshake failed for a protocol reason (bad message, no shared cipher, wrong key …).
        public static let handshakeFailed = Code("handshakeFailed")
        /// The peer sent a fatal alert.
        public static let alertReceived = Code("alertReceived")
        /// The connection closed before the TLS exchange finished.
        public static let prematureClose = Code("prematureClose")
        /// The peer did not finish the handshake in the time allowed.
        public static let handshakeTimeout = Code("handshakeTimeout")
        /// A record could not be decrypted or parsed.
        public static let recordFailed = Code("recordFailed")
        /// Any other failure reported by the TLS library.
        public static let other = Code("other")
    }

    public let code: Code
    /// Human-readable: what was wrong and, where we know, what to do.
    public let reason: String
    /// GnuTLS's name for the underlying error (e.g. `GNUTLS_E_CERTIFICATE_ERROR`), when there is one.
    public let libraryError: String?

    public init(_ code: Code, _ reason: String, libraryError: String? = nil) {
        self.code = code
        self.reason = reason
        self.libraryError = libraryError
    }

    public var description: String { reason }
}
