import Foundation
import X509

/// Signs the per-request identity token (a compact JWS) with a key the proxy holds, so a backend can prove an
/// identity header came from the proxy. Claims in docs/http.md: who (`sub`, `spiffe_id`), which certificate
/// (`cnf.x5t#S256`), which request (`htm`, `htu`), and a short life (`iat`, `exp`).
struct IdentitySigner: Sendable {
    let key: PrivateKey
    let ttl: Duration
    /// base64url of the protected header, built once.
    private let encodedHeader: String

    init(key: PrivateKey, ttl: Duration) throws {
        guard let algorithm = key.joseAlgorithm else {
            throw ProxyError(
                .invalidConfiguration,
                "the identity signing key is \(key.publicKey); use a P-256, P-384 or Ed25519 key")
        }
        self.key = key
        self.ttl = ttl
        let kid = JSONText.base64URL(Digest.sha256(key.publicKey.spkiDER))
        encodedHeader = JSONText.base64URL(Array("{\"alg\":\"\(algorithm)\",\"typ\":\"JWT\",\"kid\":\"\(kid)\"}".utf8))
    }

    /// The token for one request by `peer`.
    func token(peer: PeerCertificateFacts, method: String, target: String, now: Date = Date()) throws -> String {
        let issued = Int(now.timeIntervalSince1970)
        let jti = SecureRandom.bytes(16).hexString
        var claims = "{\"iss\":\"symbolon-proxy\",\"sub\":\(JSONText.quoted(peer.identity))"
        if let spiffeID = peer.spiffeID { claims += ",\"spiffe_id\":\(JSONText.quoted(spiffeID))" }
        claims += ",\"cnf\":{\"x5t#S256\":\"\(peer.thumbprint)\"}"
        claims += ",\"htm\":\(JSONText.quoted(method)),\"htu\":\(JSONText.quoted(target))"
        claims += ",\"iat\":\(issued),\"exp\":\(issued + Int(ttl.components.seconds)),\"jti\":\"\(jti)\"}"
        let input = encodedHeader + "." + JSONText.base64URL(Array(claims.utf8))
        return input + "." + JSONText.base64URL(try key.joseSignature(Array(input.utf8)))
    }
}
