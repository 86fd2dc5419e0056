import MTLS
import TLS

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

extension ConnectionRecord {
    /// The authenticated side finished its handshake: TLS details, identity, and the policy's reason.
    mutating func noteAdmitted(_ tls: TLSChannel) {
        let info = tls.connection.sessionInfo
        tlsVersion = info.protocolVersion
        cipher = info.cipher
        resumed = info.resumed
        identity = tls.connection.peer?.description ?? "-"
        decision = .allowed
        reason = tls.connection.authorizationDetail.map { "allowed by \($0)" } ?? "verified"
    }

    /// The authenticated side's handshake failed: refused (and who it claimed to be) or failed, and why.
    mutating func noteRefusal(_ tls: TLSChannel, error: (any Error)?) {
        let rejection = tls.connection.rejection
        let refused = [TLSError.Code.peerCertificateMissing, .peerCertificateRejected, .peerNotAuthorized]
        decision =
            rejection != nil || (error as? TLSError).map { refused.contains($0.code) } == true ? .denied : .failed
        if let rejection, rejection.code != .peerCertificateMissing,
            let claimed = tls.connection.presentedLeafDescription
        {
            identity = claimed
        }
        reason = (error.map { "\($0)" }) ?? rejection?.reason ?? "closed during the handshake"
    }

    /// Why an admitted peer is no longer accepted by `verifier` (a new CRL or bundle), or nil while it still is.
    static func revocation(of tls: TLSChannel?, by verifier: PeerVerifier) -> String? {
        guard let tls, tls.isHandshakeComplete, let peer = tls.connection.peer, peer.isAuthenticated else { return nil }
        if case .failure(let failure) = verifier.verify(certificates: peer.chain) { return "\(failure)" }
        return nil
    }
}
