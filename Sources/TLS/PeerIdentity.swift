import X509

/// Who the peer of a TLS connection proved to be: its verified chain (leaf first, trust anchor last), or nothing
/// when the server allowed an unauthenticated client (`request` mode).
public struct PeerIdentity: Sendable, CustomStringConvertible {
    /// The verified chain, leaf first and trust anchor last; empty for an unauthenticated peer.
    public let chain: [Certificate]

    public init(chain: [Certificate]) { self.chain = chain }

    /// An unauthenticated peer (no certificate presented, allowed by `request` mode).
    public static let unauthenticated = PeerIdentity(chain: [])

    /// The peer's own certificate, when it presented one.
    public var leaf: Certificate? { chain.first }
    public var isAuthenticated: Bool { !chain.isEmpty }
    public var spiffeID: SPIFFEID? { leaf?.spiffeID }

    /// The single name logs use: the SPIFFE ID, else the first DNS name, else the subject CN, else the subject.
    public var description: String {
        guard let leaf else { return "unauthenticated" }
        if let spiffe = leaf.spiffeID { return spiffe.description }
        if let dns = leaf.dnsNames.first { return "dns:\(dns)" }
        if let commonName = leaf.subject.commonName { return "cn:\(commonName)" }
        return leaf.subject.description
    }
}
