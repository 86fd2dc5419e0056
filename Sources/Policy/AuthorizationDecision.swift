/// The outcome of evaluating a policy for one client: allowed or not, by which rule, and why, for the log.
public struct AuthorizationDecision: Sendable, Hashable, CustomStringConvertible {
    /// Whether the client may proceed.
    public let isAllowed: Bool
    /// The rule that allowed the client (its name, else its conditions); nil for denials and for unauthenticated
    /// clients let in by `allowUnauthenticated`.
    public let rule: String?
    /// Why: for a denial, the client's identity, that no rule matched and which rules there were.
    public let reason: String

    /// A decision; policies make these, and layers above (per-route policies) may too.
    public init(isAllowed: Bool, rule: String?, reason: String) {
        self.isAllowed = isAllowed
        self.rule = rule
        self.reason = reason
    }

    /// `allowed: …` or `denied: …`.
    public var description: String { (isAllowed ? "allowed: " : "denied: ") + reason }
}
