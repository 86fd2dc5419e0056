import X509

/// Who the peer of a TLS connection proved to be: its verified chain (leaf first, trust anchor last), or nothing
/// when the server allowed an unauthenticated client (`request` mode).
///
/// Built once per verified chain and kept in the verified-chain cache, so the SPIFFE ID and the log name are
/// parsed once, not on every connection.
public struct PeerIdentity: Sendable, CustomStringConvertible {
    /// The verified chain, leaf first and trust anchor last; empty for an unauthenticated peer.
    public let chain: [Certificate]
    /// The leaf's SPIFFE ID, when it carries one.
    public let spiffeID: SPIFFEID?
    /// The single name logs use: the SPIFFE ID, else `dns:` the first DNS name, else `cn:` the subject CN, else
    /// the subject; `unauthenticated` without a certificate.
    public let description: String

    public init(chain: [Certificate]) {
        self.chain = chain
        guard let leaf = chain.first else {
            spiffeID = nil
            description = "unauthenticated"
            return
        }
        spiffeID = leaf.spiffeID
        if let spiffeID {
            description = spiffeID.description
        } else if let dns = leaf.dnsNames.first {
            description = "dns:\(dns)"
        } else if let commonName = leaf.subject.commonName {
            description = "cn:\(commonName)"
        } else {
            description = leaf.subject.description
        }
    }

    /// An unauthenticated peer (no certificate presented, allowed by `request` mode).
    public static let unauthenticated = PeerIdentity(chain: [])

    /// The peer's own certificate, when it presented one.
    public var leaf: Certificate? { chain.first }
    public var isAuthenticated: Bool { !chain.isEmpty }
}
