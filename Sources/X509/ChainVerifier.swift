import Foundation

/// The one chain verifier Symbolon uses: the CLI (`symbolon cert verify`), the CA's self-check after issuance and
/// the proxy all ask it, so they never disagree.
///
/// Trust comes only from `trustRoots`; the system store is never consulted. Path building and RFC 5280 checks are
/// OpenSSL's; names, EKUs and the "every CA below the root needs a CRL" rule are applied here on top.
///
/// The OpenSSL trust store is built once, when the verifier is made, and shared by every verification (OpenSSL
/// allows concurrent verifications against one store), so keep a verifier rather than making one per call.
public struct ChainVerifier: Sendable {
    /// The trust anchors.
    public let trustRoots: [Certificate]
    /// What OpenSSL's store trusts: the roots, or one intermediate already verified against them.
    let anchors: [Certificate]
    /// Set when `anchors` is an intermediate: verification stops there (partial chain), and the time must not be
    /// past this (the end of the intermediate's own chain).
    let anchoredUntil: Date?
    let store: OpenSSLObject?

    public init(trustRoots: [Certificate]) {
        self.init(trustRoots: trustRoots, anchors: trustRoots, anchoredUntil: nil)
    }

    init(trustRoots: [Certificate], anchors: [Certificate], anchoredUntil: Date?) {
        self.trustRoots = trustRoots
        self.anchors = anchors
        self.anchoredUntil = anchoredUntil
        self.store = ChainVerifier.makeStore(anchors)
    }

    /// A verifier for leaves issued directly by `intermediate`: checks here, once, that `intermediate` is accepted
    /// by this verifier at `time`, then trusts it as the anchor of every later verification, so the intermediate's
    /// own signature is not verified again for each leaf. Everything about the leaf is still checked, including the
    /// intermediate's name constraints, path length and validity. For hot paths: the CA's self-check after signing.
    public func anchored(at intermediate: Certificate, checkedAt time: Date = Date())
        -> Result<ChainVerifier, VerificationFailure>
    {
        switch verify(leaf: intermediate, policy: VerificationPolicy(time: time)) {
        case .failure(let failure): return .failure(failure)
        case .success(let chain):
            let until = chain.map(\.notAfter).min() ?? intermediate.notAfter
            return .success(ChainVerifier(trustRoots: trustRoots, anchors: [intermediate], anchoredUntil: until))
        }
    }

    /// Verifies `leaf`, using `intermediates` (untrusted) to build the path. Returns the verified chain, leaf first
    /// and root last, or why it was rejected. Never throws: a rejection is a value.
    public func verify(leaf: Certificate, intermediates: [Certificate] = [], policy: VerificationPolicy = .init())
        -> Result<[Certificate], VerificationFailure>
    {
        guard !trustRoots.isEmpty else {
            return .failure(VerificationFailure(.unknownIssuer, "no trusted roots were given"))
        }
        if let anchoredUntil, policy.time > anchoredUntil {
            return .failure(VerificationFailure(.expired, "the issuing chain expired at \(anchoredUntil)", depth: 1))
        }
        let chain: [Certificate]
        switch verifyPath(leaf: leaf, intermediates: intermediates, policy: policy) {
        case .failure(let failure): return .failure(failure)
        case .success(let built): chain = built
        }
        for usage in policy.requiredExtendedKeyUsages {
            guard let listed = leaf.extendedKeyUsage else {
                return .failure(
                    VerificationFailure(
                        .wrongPurpose, "the leaf has no extended key usage extension; \(usage) is required", depth: 0))
            }
            guard listed.contains(usage) || listed.contains(.any) else {
                return .failure(
                    VerificationFailure(
                        .wrongPurpose,
                        "the leaf's extended key usage (\(listed.map(\.description).joined(separator: ", "))) does not include \(usage)",
                        depth: 0))
            }
        }
        for name in policy.requiredNames {
            guard leafCarries(leaf, name) else {
                let present = leaf.subjectAlternativeNames.map(\.description).joined(separator: ", ")
                return .failure(
                    VerificationFailure(
                        .nameMismatch,
                        "the leaf does not match \(name) (its names: \(present.isEmpty ? "none" : present))",
                        depth: 0))
            }
        }
        return .success(chain)
    }
}
