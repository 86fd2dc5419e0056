import Foundation

/// The one chain verifier Symbolon uses: the CLI (`symbolon cert verify`), the CA's self-check after issuance and
/// the proxy all ask it, so they never disagree.
///
/// Trust comes only from `trustRoots`; the system store is never consulted. Path building and RFC 5280 checks are
/// OpenSSL's; names, EKUs and the "every CA below the root needs a CRL" rule are applied here on top.
public struct ChainVerifier: Sendable {
    /// The trust anchors.
    public let trustRoots: [Certificate]

    public init(trustRoots: [Certificate]) { self.trustRoots = trustRoots }

    /// Verifies `leaf`, using `intermediates` (untrusted) to build the path. Returns the verified chain, leaf first
    /// and root last, or why it was rejected. Never throws: a rejection is a value.
    public func verify(leaf: Certificate, intermediates: [Certificate] = [], policy: VerificationPolicy = .init())
        -> Result<[Certificate], VerificationFailure>
    {
        guard !trustRoots.isEmpty else {
            return .failure(VerificationFailure(.unknownIssuer, "no trusted roots were given"))
        }
        let chain: [Certificate]
        switch verifyPath(leaf: leaf, intermediates: intermediates, policy: policy) {
        case .failure(let failure): return .failure(failure)
        case .success(let built): chain = built
        }
        for usage in policy.requiredExtendedKeyUsages {
            guard let listed = leaf.extendedKeyUsage else {
                return .failure(
                    VerificationFailure(.wrongPurpose, "the leaf has no extended key usage extension; \(usage) is required", depth: 0))
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
                        .nameMismatch, "the leaf does not match \(name) (its names: \(present.isEmpty ? "none" : present))",
                        depth: 0))
            }
        }
        return .success(chain)
    }
}
