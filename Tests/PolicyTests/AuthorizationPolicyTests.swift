import Testing
import X509

@testable import Policy

@Suite("Authorization policies")
struct AuthorizationPolicyTests {
    static func paymentsAndAPI() throws -> AuthorizationPolicy {
        AuthorizationPolicy(rules: [
            AuthorizationRule(try .spiffeID("spiffe://acme.internal/ns/payments/*")),
            AuthorizationRule(try .dns("api.example.com")),
        ])
    }

    @Test("a client matching a rule is allowed and the decision names the rule")
    func allowed() throws {
        let policy = AuthorizationPolicy(rules: [
            AuthorizationRule(name: "payments", try .spiffeID("spiffe://acme.internal/ns/payments/*")),
            AuthorizationRule(try .dns("api.example.com")),
        ])
        let decision = policy.evaluate(try Fixtures.svid("spiffe://acme.internal/ns/payments/api"))
        #expect(decision.isAllowed)
        #expect(decision.rule == "payments")
        #expect(decision.reason == "allowed by rule payments")
        let byDNS = policy.evaluate(try Fixtures.leaf([.dns("api.example.com")]))
        #expect(byDNS.isAllowed)
        #expect(byDNS.rule == "dns api.example.com")
    }

    @Test("default deny: a client matching no rule is denied, and the reason names it and every rule")
    func denied() throws {
        let decision = try Self.paymentsAndAPI().evaluate(try Fixtures.svid("spiffe://acme.internal/ns/web/api"))
        #expect(!decision.isAllowed)
        #expect(decision.rule == nil)
        #expect(
            decision.reason
                == "spiffe://acme.internal/ns/web/api matched none of 2 rules (spiffe-id spiffe://acme.internal/ns/payments/*; dns api.example.com)"
        )
        #expect(decision.description.hasPrefix("denied: spiffe://acme.internal/ns/web/api matched none"))
    }

    @Test("a denial lists the client's subject and other names; control characters from the certificate are escaped")
    func denialNames() throws {
        let policy = AuthorizationPolicy(rules: [AuthorizationRule(.commonName("bob"))])
        let svid = try Fixtures.leaf(
            [.uri("spiffe://acme.internal/ns/web/api"), .dns("web.example.com")], subject: [("CN", "web")])
        #expect(
            policy.evaluate(svid).reason
                == "spiffe://acme.internal/ns/web/api [subject CN=web, DNS:web.example.com] matched none of 1 rule (cn bob)"
        )
        let plain = try Fixtures.leaf([.dns("a.example.com")], subject: [("OU", "ops"), ("CN", "alice\nFORGED")])
        #expect(
            policy.evaluate(plain).reason
                == "CN=alice\\u{a}FORGED,OU=ops [DNS:a.example.com] matched none of 1 rule (cn bob)")
        #expect(
            policy.evaluate(try Fixtures.leaf()).reason
                == "a certificate with an empty subject matched none of 1 rule (cn bob)")
    }

    @Test("a rule with several conditions needs all of them")
    func allConditions() throws {
        let rule = try AuthorizationRule(
            name: "ops", matchers: [.organizationalUnit("ops"), .commonName("alice")])
        let policy = AuthorizationPolicy(rules: [rule])
        #expect(policy.evaluate(try Fixtures.leaf(subject: [("OU", "ops"), ("CN", "alice")])).isAllowed)
        #expect(!policy.evaluate(try Fixtures.leaf(subject: [("OU", "ops"), ("CN", "bob")])).isAllowed)
        #expect(!policy.evaluate(try Fixtures.leaf(subject: [("OU", "dev"), ("CN", "alice")])).isAllowed)
        #expect(rule.description == "ops (ou ops and cn alice)")
        let error = #expect(throws: PolicyError.self) { try AuthorizationRule(matchers: []) }
        #expect(error?.code == .emptyRule)
    }

    @Test("an empty policy denies every client and says so")
    func empty() throws {
        let policy = AuthorizationPolicy(rules: [])
        #expect(policy.isEmpty)
        let decision = policy.evaluate(try Fixtures.svid("spiffe://acme.internal/x"))
        #expect(!decision.isAllowed)
        #expect(
            decision.reason
                == "spiffe://acme.internal/x matched no rule: the policy has no rules and denies every client")
        #expect(policy.description == "no rules: every client with a certificate is denied")
        #expect(!(try Self.paymentsAndAPI()).isEmpty)
    }

    @Test("a client without a certificate is denied unless the policy allows unauthenticated clients")
    func unauthenticated() throws {
        let denied = try Self.paymentsAndAPI().evaluate(nil)
        #expect(!denied.isAllowed)
        #expect(denied.reason == "no client certificate; the policy does not allow unauthenticated clients")
        let anyone = AuthorizationPolicy(rules: [AuthorizationRule(.anyAuthenticated)]).evaluate(nil)
        #expect(!anyone.isAllowed, "anyAuthenticated needs a certificate")
        let open = AuthorizationPolicy(rules: [], allowUnauthenticated: true)
        let allowed = open.evaluate(nil)
        #expect(allowed.isAllowed)
        #expect(allowed.rule == nil)
        #expect(allowed.reason == "no client certificate; the policy allows unauthenticated clients")
        #expect(!open.evaluate(try Fixtures.leaf()).isAllowed, "a client that presents a certificate is judged on it")
    }

    @Test("anyAuthenticated allows every client with a certificate")
    func anyAuthenticated() throws {
        let policy = AuthorizationPolicy(rules: [AuthorizationRule(name: "all", .anyAuthenticated)])
        #expect(policy.evaluate(try Fixtures.leaf()).isAllowed)
        #expect(policy.evaluate(try Fixtures.svid("spiffe://other.internal/x")).rule == "all")
    }

    @Test("the description is a short summary for logs")
    func description() throws {
        let policy = AuthorizationPolicy(rules: [
            AuthorizationRule(name: "payments", try .spiffeID("spiffe://acme.internal/ns/payments/*")),
            AuthorizationRule(try .dns("*.example.com")),
        ])
        #expect(
            policy.description
                == "2 rules: payments (spiffe-id spiffe://acme.internal/ns/payments/*), dns *.example.com")
        let many = AuthorizationPolicy(
            rules: (0..<20).map { AuthorizationRule(.commonName("c\($0)")) }, allowUnauthenticated: true)
        #expect(many.description.hasPrefix("20 rules: cn c0, cn c1,"))
        #expect(many.description.hasSuffix("cn c7, and 12 more; clients without a certificate are allowed"))
        #expect(many.evaluate(try Fixtures.leaf()).reason.hasSuffix("cn c7; and 12 more)"))
    }

    @Test("flags become one rule per value; bad values name the flag")
    func flags() throws {
        let key = try PrivateKey.generate()
        let policy = try AuthorizationPolicy.fromFlags(
            spiffeIDs: ["spiffe://acme.internal/ns/payments/*"], uris: ["urn:example:x"],
            dnsNames: ["*.example.com", "*.example.com"], commonNames: ["alice"], organizationalUnits: ["ops"],
            spkiPins: ["sha256//" + key.publicKey.spkiSHA256Pin], allowAll: false)
        #expect(policy.rules.count == 6, "the repeated DNS name is one rule")
        #expect(policy.evaluate(try Fixtures.svid("spiffe://acme.internal/ns/payments/api")).isAllowed)
        #expect(policy.evaluate(try Fixtures.leaf([.uri("urn:example:x")])).isAllowed)
        #expect(policy.evaluate(try Fixtures.leaf([.dns("www.example.com")])).isAllowed)
        #expect(policy.evaluate(try Fixtures.leaf(subject: [("CN", "alice")])).isAllowed)
        #expect(policy.evaluate(try Fixtures.leaf(subject: [("OU", "ops")])).isAllowed)
        #expect(policy.evaluate(try Fixtures.leaf(key: key)).isAllowed)
        #expect(!policy.evaluate(try Fixtures.leaf(subject: [("CN", "bob")])).isAllowed)
        #expect(try AuthorizationPolicy.fromFlags(allowAll: true).evaluate(try Fixtures.leaf()).isAllowed)
        #expect(try AuthorizationPolicy.fromFlags().isEmpty)

        let error = #expect(throws: PolicyError.self) {
            try AuthorizationPolicy.fromFlags(spiffeIDs: ["spiffe://*.internal/x"])
        }
        #expect(error?.path == "--allow-spiffe-id")
        #expect(error?.description.hasPrefix("--allow-spiffe-id: invalid SPIFFE ID pattern") == true)
        let pin = #expect(throws: PolicyError.self) { try AuthorizationPolicy.fromFlags(spkiPins: ["abc"]) }
        #expect(pin?.path == "--allow-spki-pin")
        let empty = #expect(throws: PolicyError.self) { try AuthorizationPolicy.fromFlags(commonNames: [""]) }
        #expect(empty?.description == "--allow-cn: the value is empty; give one identity per flag")
    }

    @Test("merging keeps both policies' rules once each and allows unauthenticated clients if either does")
    func merged() throws {
        let file = try Self.paymentsAndAPI()
        let flags = try AuthorizationPolicy.fromFlags(dnsNames: ["api.example.com", "b.example.com"])
        let merged = file.merged(with: flags)
        #expect(
            merged.rules.map(\.label) == [
                "spiffe-id spiffe://acme.internal/ns/payments/*", "dns api.example.com", "dns b.example.com",
            ])
        #expect(!merged.allowUnauthenticated)
        #expect(merged.merged(with: AuthorizationPolicy(rules: [], allowUnauthenticated: true)).allowUnauthenticated)
    }
}
