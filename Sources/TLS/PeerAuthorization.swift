/// The answer of an authorization hook about an authenticated (or, in `request` mode, unauthenticated) peer.
/// The TLS module does not know policies; the caller plugs its own in (see `TLSContext.init(authorizer:)`).
public struct PeerAuthorization: Sendable {
    public let isAllowed: Bool
    /// For an allowed peer, the rule that allowed it; for a denied one, why.
    public let detail: String

    public static func allow(_ detail: String) -> PeerAuthorization { .init(isAllowed: true, detail: detail) }
    public static func deny(_ reason: String) -> PeerAuthorization { .init(isAllowed: false, detail: reason) }
}

/// Decides whether a verified peer may proceed. Called on every handshake, resumed ones included, on the
/// connection's thread: keep it cheap and non-blocking.
public typealias PeerAuthorizer = @Sendable (PeerIdentity) -> PeerAuthorization
