/// What one proxied connection did, for its single log line.
public struct ConnectionRecord: Sendable {
    /// Outcome of a connection.
    public enum Decision: String, Sendable {
        /// Admitted and proxied.
        case allowed
        /// Refused: no or invalid certificate, revoked, or not authorized.
        case denied
        /// Admitted but failed afterwards (target unreachable, TLS error, …), or a handshake that never finished.
        case failed
        /// Admitted, then closed by the proxy because a new CRL revoked the peer.
        case revoked
    }

    public var peer: String
    public var identity: String = "-"
    public var tlsVersion: String = "-"
    public var cipher: String = "-"
    public var resumed = false
    public var decision: Decision = .failed
    public var reason: String = ""
    public var bytesIn = 0
    public var bytesOut = 0
    public var durationMilliseconds = 0.0

    public init(peer: String) { self.peer = peer }
}
