import Foundation
import X509

/// The trust decision for TLS peers, made in one place: the X509 module's `ChainVerifier` (the same verifier as
/// `symbolon cert verify`, so the CLI and the proxy never disagree), CRLs for every CA below the root, EKU
/// clientAuth or serverAuth, expected names, and a cache of verified chains in front of it.
///
/// Immutable; shared by every connection of a `TLSContext` on every thread. A change of trust bundle or CRLs is a
/// new `PeerVerifier` (and so an empty cache).
public final class PeerVerifier: Sendable {
    let verifier: ChainVerifier
    /// Non-self-signed certificates from the bundle, offered to path building as known intermediates.
    let bundleIntermediates: [Certificate]
    let purpose: VerificationPolicy.Purpose
    let requiredNames: [SubjectAlternativeName]
    let crls: [CertificateRevocationList]?
    let acceptsStaleCRLs: Bool
    /// The earliest nextUpdate among the CRLs: no verdict is cached past it.
    let crlsValidUntil: Date
    let cache: VerifiedChainCache

    /// A verifier for peers in `purpose` (`.client` for a server verifying its clients).
    public init(
        trustBundle: [Certificate], purpose: VerificationPolicy.Purpose, requiredNames: [SubjectAlternativeName] = [],
        crls: [CertificateRevocationList]?, acceptsStaleCRLs: Bool = false, cacheCapacity: Int = 20_000
    ) {
        let roots = trustBundle.filter(\.isSelfSigned)
        self.verifier = ChainVerifier(trustRoots: roots)
        self.bundleIntermediates = trustBundle.filter { !$0.isSelfSigned }
        self.purpose = purpose
        self.requiredNames = requiredNames
        self.crls = crls
        self.acceptsStaleCRLs = acceptsStaleCRLs
        self.crlsValidUntil =
            acceptsStaleCRLs ? .distantFuture : (crls ?? []).compactMap(\.nextUpdate).min() ?? .distantFuture
        self.cache = VerifiedChainCache(capacity: cacheCapacity)
    }

    func policy(at time: Date) -> VerificationPolicy {
        var policy = VerificationPolicy(time: time, purpose: purpose, requiredNames: requiredNames, crls: crls)
        policy.acceptsStaleCRLs = acceptsStaleCRLs
        if purpose == .client { policy.requiredExtendedKeyUsages = [.clientAuth] }
        if purpose == .server { policy.requiredExtendedKeyUsages = [.serverAuth] }
        return policy
    }

    /// Verifies a chain as received on the wire (DER, leaf first). Returns the peer's identity (its verified chain,
    /// leaf first and anchor last), or why it was rejected.
    public func verify(presented der: [[UInt8]], at time: Date = Date()) -> Result<PeerIdentity, VerificationFailure> {
        guard let leafDER = der.first else {
            return .failure(VerificationFailure(.other, "the peer presented no certificate"))
        }
        if let hit = cache.leaf(leafDER, at: time) { return .success(hit.identity) }
        return verifyUncached(presented: der, at: time)
    }

    /// `verify(presented:)` for a chain whose leaf the caller has just looked up in the cache and missed.
    func verifyUncached(presented der: [[UInt8]], at time: Date) -> Result<PeerIdentity, VerificationFailure> {
        guard let leafDER = der.first else {
            return .failure(VerificationFailure(.other, "the peer presented no certificate"))
        }
        let leaf: Certificate
        do { leaf = try Certificate(der: leafDER) } catch {
            return .failure(
                VerificationFailure(.invalidCertificate, "the peer's certificate cannot be parsed: \(error)"))
        }
        // A known, verified intermediate: check only the leaf, anchored at it.
        if der.count > 1, let anchor = cache.anchor(der[1], at: time) {
            if case .success(let chain) = anchor.verifier.verify(leaf: leaf, policy: policy(at: time)) {
                return .success(remember([chain[0]] + anchor.chain, leafDER: leafDER))
            }
            // Fall through: the full verification gives the authoritative answer and reason.
        }
        var presented: [Certificate] = []
        for (index, bytes) in der.dropFirst().enumerated() {
            guard let certificate = try? Certificate(der: bytes) else {
                return .failure(
                    VerificationFailure(
                        .invalidCertificate, "certificate \(index + 1) of the peer's chain cannot be parsed",
                        depth: index + 1))
            }
            presented.append(certificate)
        }
        return verify(leaf: leaf, intermediates: presented, leafDER: leafDER, at: time)
    }

    /// The cached identity for this exact leaf, if a verified chain for it is cached and still valid: the
    /// handshake's fast path, which needs nothing but the leaf's bytes.
    func cachedIdentity(leaf der: [UInt8], at time: Date) -> PeerIdentity? { cache.leaf(der, at: time)?.identity }

    /// Verifies already parsed certificates (leaf first), e.g. to re-check an open connection after new CRLs.
    public func verify(certificates: [Certificate], at time: Date = Date()) -> Result<
        [Certificate], VerificationFailure
    > {
        guard let leaf = certificates.first else {
            return .failure(VerificationFailure(.other, "the peer presented no certificate"))
        }
        if let hit = cache.leaf(leaf.der, at: time) { return .success(hit.identity.chain) }
        return verify(leaf: leaf, intermediates: Array(certificates.dropFirst()), leafDER: leaf.der, at: time)
            .map(\.chain)
    }

    private func verify(leaf: Certificate, intermediates: [Certificate], leafDER: [UInt8], at time: Date)
        -> Result<PeerIdentity, VerificationFailure>
    {
        let result = verifier.verify(
            leaf: leaf, intermediates: intermediates + bundleIntermediates, policy: policy(at: time))
        let chain: [Certificate]
        switch result {
        case .failure(let failure): return .failure(failure)
        case .success(let verified): chain = verified
        }
        let identity = remember(chain, leafDER: leafDER)
        if chain.count >= 3, cache.anchor(chain[1].der, at: time) == nil {
            if case .success(let anchored) = verifier.anchored(at: chain[1], checkedAt: time) {
                let tail = Array(chain.dropFirst())
                let until = min(tail.map(\.notAfter).min() ?? time, crlsValidUntil)
                cache.remember(anchor: chain[1].der, .init(verifier: anchored, chain: tail, validUntil: until))
            }
        }
        return .success(identity)
    }

    private func remember(_ chain: [Certificate], leafDER: [UInt8]) -> PeerIdentity {
        let until = min(chain.map(\.notAfter).min() ?? .distantPast, crlsValidUntil)
        let from = chain.map(\.notBefore).max() ?? .distantFuture
        let identity = PeerIdentity(chain: chain)
        cache.remember(leaf: leafDER, .init(identity: identity, validFrom: from, validUntil: until))
        return identity
    }

    /// Cache statistics: leaf hits, misses and entries.
    public var cacheStatistics: (hits: Int, misses: Int, count: Int) { cache.statistics }
}
