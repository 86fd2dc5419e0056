import Testing
import X509

@testable import Policy

@Suite("SPIFFE ID matchers")
struct SPIFFEMatcherTests {
    @Test("an exact SPIFFE ID matches only that ID")
    func exact() throws {
        let matcher = try IdentityMatcher.spiffeID("spiffe://acme.internal/ns/payments/api")
        #expect(matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments/api")))
        #expect(!matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments/api2")))
        #expect(!matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments")))
        #expect(!matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments/api/x")))
        #expect(
            !matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/Payments/api")), "paths are case-sensitive")
        #expect(matcher.description == "spiffe-id spiffe://acme.internal/ns/payments/api")
    }

    @Test("a SPIFFE pattern /ns/payments/* allows /ns/payments/api but not /ns/payments or /ns/payments/a/b")
    func oneSegment() throws {
        let matcher = try IdentityMatcher.spiffeID("spiffe://acme.internal/ns/payments/*")
        #expect(matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments/api")))
        #expect(matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments/A-b_c.9")))
        #expect(!matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments")))
        #expect(!matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments/a/b")))
        #expect(!matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/paymentsx/api")))
        #expect(!matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/web/api")))
        #expect(!matcher.matches(try Fixtures.svid("spiffe://acme.internal/NS/payments/api")), "case matters")
    }

    @Test("a wildcard in the middle matches exactly one segment")
    func middleWildcard() throws {
        let matcher = try IdentityMatcher.spiffeID("spiffe://acme.internal/ns/*/sa/api")
        #expect(matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments/sa/api")))
        #expect(!matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/a/b/sa/api")))
        #expect(!matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/sa/api")))
    }

    @Test("a final ** matches one or more segments, never zero")
    func anyDepth() throws {
        let matcher = try IdentityMatcher.spiffeID("spiffe://acme.internal/ns/payments/**")
        #expect(matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments/api")))
        #expect(matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments/a/b/c")))
        #expect(!matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments")))
        #expect(!matcher.matches(try Fixtures.svid("spiffe://acme.internal/ns")))
        let whole = try IdentityMatcher.spiffeID("spiffe://acme.internal/**")
        #expect(whole.matches(try Fixtures.svid("spiffe://acme.internal/x")))
        #expect(!whole.matches(try Fixtures.svid("spiffe://acme.internal")))
        #expect(!whole.matches(try Fixtures.svid("spiffe://other.internal/x")))
    }

    @Test("the trust domain is exact: other, longer or suffixed trust domains do not match")
    func trustDomain() throws {
        let matcher = try IdentityMatcher.spiffeID("spiffe://acme.internal/ns/payments/*")
        for id in [
            "spiffe://other.internal/ns/payments/api", "spiffe://acme.internal.evil/ns/payments/api",
            "spiffe://evil.acme.internal/ns/payments/api", "spiffe://acme.interna/ns/payments/api",
        ] {
            #expect(!matcher.matches(try Fixtures.svid(id)), "\(id)")
        }
        let bare = try IdentityMatcher.spiffeID("spiffe://acme.internal")
        #expect(bare.matches(try Fixtures.svid("spiffe://acme.internal")))
        #expect(!bare.matches(try Fixtures.svid("spiffe://acme.internal/x")))
    }

    @Test("URIs that are not valid SPIFFE IDs never match a wildcard: trailing slash, empty, dot and odd segments")
    func invalidCertificateIDs() throws {
        let matcher = try IdentityMatcher.spiffeID("spiffe://acme.internal/ns/payments/*")
        let deep = try IdentityMatcher.spiffeID("spiffe://acme.internal/ns/**")
        for uri in [
            "spiffe://acme.internal/ns/payments/api/", "spiffe://acme.internal/ns/payments/",
            "spiffe://acme.internal/ns/payments//api", "spiffe://acme.internal/ns/payments/..",
            "spiffe://acme.internal/ns/payments/.", "spiffe://acme.internal/ns/payments/a%2Fb",
            "spiffe://acme.internal/ns/payments/api?x=1", "spiffe://acme.internal/ns/payments/api#f",
            "spiffe://acme.internal:443/ns/payments/api", "SPIFFE://acme.internal/ns/payments/api",
        ] {
            let leaf = try Fixtures.svid(uri)
            #expect(!matcher.matches(leaf), "\(uri)")
            #expect(!deep.matches(leaf), "\(uri)")
        }
        #expect(deep.matches(try Fixtures.svid("spiffe://acme.internal/ns/payments/...")), "\"...\" is a valid segment")
    }

    @Test("a certificate with two URI SANs is not an SVID and matches no SPIFFE matcher")
    func twoURIs() throws {
        let leaf = try Fixtures.leaf([.uri("spiffe://acme.internal/ns/payments/api"), .uri("urn:example:x")])
        #expect(!(try IdentityMatcher.spiffeID("spiffe://acme.internal/ns/payments/api")).matches(leaf))
        #expect(!(try IdentityMatcher.spiffeID("spiffe://acme.internal/ns/payments/*")).matches(leaf))
        #expect(!(try IdentityMatcher.spiffeID("spiffe://acme.internal/ns/payments/api")).matches(try Fixtures.leaf()))
    }

    @Test(
        "bad SPIFFE ID patterns are refused with the rule they break",
        arguments: [
            ("", "empty"), ("http://acme.internal/x", "must start with spiffe://"),
            ("SPIFFE://acme.internal/x", "lowercase"), ("spiffe://*.internal/x", "trust domain cannot be wildcarded"),
            ("spiffe://*/x", "trust domain cannot be wildcarded"), ("spiffe://Acme.internal/x", "character"),
            ("spiffe://acme.internal:8443/x", "port"), ("spiffe:///x", "trust domain is empty"),
            ("spiffe://acme.internal/", "only \"/\""), ("spiffe://acme.internal/ns/", "end with"),
            ("spiffe://acme.internal/ns//x", "empty segment"), ("spiffe://acme.internal/ns/**/x", "last segment"),
            ("spiffe://acme.internal/ns/api-*", "whole segment"), ("spiffe://acme.internal/ns/*x*", "whole segment"),
            ("spiffe://acme.internal/ns/***", "whole segment"), ("spiffe://acme.internal/ns/../x", "\"..\""),
            ("spiffe://acme.internal/ns/a b", "character \" \""), ("spiffe://acme.internal/ns?x", "query"),
            ("spiffe://acme.internal/ns#x", "fragment"), ("spiffe://acme.internal/ü", "non-ASCII"),
            ("spiffe://td/" + String(repeating: "a", count: 2050), "2048"),
        ])
    func badPatterns(pattern: String, expected: String) {
        let error = #expect(throws: PolicyError.self) { try IdentityMatcher.spiffeID(pattern) }
        #expect(error?.code == .invalidValue)
        #expect(error?.reason.contains("invalid SPIFFE ID pattern") == true)
        #expect(error?.reason.contains(expected) == true, "got: \(String(describing: error))")
    }
}
