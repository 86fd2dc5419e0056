import X509

/// One way to be allowed in: conditions that must all hold, and an optional name for logs.
public struct AuthorizationRule: Sendable, Hashable, CustomStringConvertible {
    /// A name for logs and decisions (`payments`), or nil.
    public let name: String?
    /// The conditions; a certificate satisfies the rule when it satisfies every one.
    public let matchers: [IdentityMatcher]
    /// What a decision reports as the rule that allowed: the name, else the conditions.
    public let label: String
    /// The reason an allowing decision carries, built once.
    let allowedReason: String

    /// A rule from its conditions, all of which must match. Throws `PolicyError` (`.emptyRule`) for an empty list,
    /// which would otherwise be read either as "allow everyone" or "allow no one".
    public init(name: String? = nil, matchers: [IdentityMatcher]) throws {
        guard !matchers.isEmpty else {
            throw PolicyError(
                .emptyRule,
                "a rule needs at least one condition; to allow every authenticated client say so with anyAuthenticated"
            )
        }
        self.name = name
        self.matchers = matchers
        let conditions = matchers.map(\.description).joined(separator: " and ")
        self.label = name ?? conditions
        self.allowedReason = "allowed by rule " + label
        self.description = name.map { "\($0) (\(conditions))" } ?? conditions
    }

    /// A rule with one condition.
    public init(name: String? = nil, _ matcher: IdentityMatcher) {
        // A single matcher can never make the list empty.
        self = try! AuthorizationRule(name: name, matchers: [matcher])
    }

    /// Whether `leaf` satisfies every condition of the rule.
    public func matches(_ leaf: Certificate) -> Bool {
        matchers.allSatisfy { $0.matches(leaf) }
    }

    /// `payments (spiffe-id spiffe://acme.internal/ns/payments/*)`, or `ou ops and cn alice` for an unnamed rule.
    public let description: String
}
