/// What a completed handshake negotiated, for logs and metrics.
public struct TLSSessionInfo: Sendable {
    /// e.g. "TLS1.3".
    public let protocolVersion: String
    /// e.g. "AES-128-GCM".
    public let cipher: String
    /// The key-exchange group, e.g. "X25519" or "SECP256R1".
    public let group: String
    /// Whether the session was resumed from a ticket (authorization and revocation are re-checked anyway).
    public let resumed: Bool
}
