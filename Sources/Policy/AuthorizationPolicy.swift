import Foundation
import X509

/// Who may connect, decided over the verified leaf certificate after the TLS layer has authenticated it.
///
/// Rules are alternatives: a client is allowed when any rule matches (each rule's conditions must all hold), and
/// denied otherwise — default deny. A client without a certificate is allowed only when `allowUnauthenticated` is
/// set; a client that presents a certificate is always judged on it. Build once at load time (patterns are compiled
/// then) and share: the value is immutable and `evaluate(_:)` is cheap enough to run on every connection.
public struct AuthorizationPolicy: Sendable, CustomStringConvertible {
    /// The rules, in the order they are tried.
    public let rules: [AuthorizationRule]
    /// Whether clients that present no certificate (TLS "request" mode) are let in.
    public let allowUnauthenticated: Bool
    /// " matched none of 2 rules (…)", built once so that a denial costs one string interpolation.
    private let denialSuffix: String

    /// How many rules a denial reason or description lists before summarising the rest.
    static let listedRules = 8

    /// A policy from its rules. An empty list denies every authenticated client.
    public init(rules: [AuthorizationRule], allowUnauthenticated: Bool = false) {
        self.rules = rules
        self.allowUnauthenticated = allowUnauthenticated
        if rules.isEmpty {
            denialSuffix = " matched no rule: the policy has no rules and denies every client"
        } else {
            let count = rules.count == 1 ? "1 rule" : "\(rules.count) rules"
            denialSuffix = " matched none of \(count) (\(AuthorizationPolicy.list(rules, separator: "; ")))"
        }
    }

    /// Whether the policy has no rules, and so denies every client that presents a certificate. The CLI refuses to
    /// start with an empty policy unless told to.
    public var isEmpty: Bool { rules.isEmpty }

    /// Decides for one client. `leaf` is the verified leaf certificate, or nil when the client sent none.
    ///
    /// An allowed client costs the matchers' byte comparisons and no allocation (the decision's strings are built
    /// with the policy); a denial formats the client's names for the log.
    public func evaluate(_ leaf: Certificate?) -> AuthorizationDecision {
        guard let leaf else {
            if allowUnauthenticated {
                return AuthorizationDecision(
                    isAllowed: true, rule: nil,
                    reason: "no client certificate; the policy allows unauthenticated clients")
            }
            return AuthorizationDecision(
                isAllowed: false, rule: nil,
                reason: "no client certificate; the policy does not allow unauthenticated clients")
        }
        for rule in rules where rule.matches(leaf) {
            return AuthorizationDecision(isAllowed: true, rule: rule.label, reason: rule.allowedReason)
        }
        return AuthorizationDecision(
            isAllowed: false, rule: nil, reason: AuthorizationPolicy.identity(of: leaf) + denialSuffix)
    }

    /// This policy's rules followed by `other`'s (duplicates dropped); unauthenticated clients are allowed when
    /// either allows them. Used to combine a policy file with `--allow-…` flags.
    public func merged(with other: AuthorizationPolicy) -> AuthorizationPolicy {
        var seen = Set<AuthorizationRule>()
        let combined = (rules + other.rules).filter { seen.insert($0).inserted }
        return AuthorizationPolicy(
            rules: combined, allowUnauthenticated: allowUnauthenticated || other.allowUnauthenticated)
    }

    /// A short summary for logs: `2 rules: payments (spiffe-id spiffe://acme.internal/ns/payments/*), dns
    /// *.example.com`.
    public var description: String {
        var text: String
        switch rules.count {
        case 0: text = "no rules: every client with a certificate is denied"
        case 1: text = "1 rule: " + AuthorizationPolicy.list(rules, separator: ", ")
        default: text = "\(rules.count) rules: " + AuthorizationPolicy.list(rules, separator: ", ")
        }
        if allowUnauthenticated { text += "; clients without a certificate are allowed" }
        return text
    }

    static func list(_ rules: [AuthorizationRule], separator: String) -> String {
        var items = rules.prefix(listedRules).map(\.description)
        if rules.count > listedRules { items.append("and \(rules.count - listedRules) more") }
        return items.joined(separator: separator)
    }

    /// The names a log needs to recognise the client: its SPIFFE ID when it has one, else its subject, then in
    /// brackets its other names. Control characters from the certificate are escaped so they cannot forge log lines.
    static func identity(of leaf: Certificate) -> String {
        let spiffeURI = IdentityMatcher.singleURI(of: leaf).flatMap { $0.hasPrefix("spiffe://") ? $0 : nil }
        var others: [String] = []
        let primary: String
        let subject = leaf.subject.description
        if let spiffeURI {
            primary = spiffeURI
            if !subject.isEmpty { others.append("subject " + subject) }
        } else {
            primary = subject.isEmpty ? "a certificate with an empty subject" : subject
        }
        for name in leaf.subjectAlternativeNames {
            if case .uri(let value) = name, value == spiffeURI { continue }
            others.append(name.description)
        }
        if others.count > listedRules {
            others = others.prefix(listedRules) + ["and \(others.count - listedRules) more"]
        }
        let text = others.isEmpty ? primary : "\(primary) [\(others.joined(separator: ", "))]"
        return escapingControlCharacters(text)
    }

    static func escapingControlCharacters(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}
