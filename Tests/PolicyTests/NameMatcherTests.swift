import Foundation
import Testing
import X509

@testable import Policy

@Suite("DNS, URI, subject, pin and any matchers")
struct NameMatcherTests {
    @Test("an exact DNS name matches case-insensitively and nothing else")
    func dnsExact() throws {
        let matcher = try IdentityMatcher.dns("api.example.com")
        #expect(matcher.matches(try Fixtures.leaf([.dns("api.example.com")])))
        #expect(matcher.matches(try Fixtures.leaf([.dns("API.Example.COM")])))
        #expect(matcher.matches(try Fixtures.leaf([.dns("other.example.com"), .dns("api.example.com")])))
        #expect(!matcher.matches(try Fixtures.leaf([.dns("api.example.co")])))
        #expect(!matcher.matches(try Fixtures.leaf([.dns("x.api.example.com")])))
        #expect(!matcher.matches(try Fixtures.leaf([.uri("https://api.example.com")])))
        #expect(try IdentityMatcher.dns("API.example.com").matches(try Fixtures.leaf([.dns("api.example.com")])))
    }

    @Test("*.example.com matches one extra label: not example.com, not a.b.example.com, not a wildcard SAN")
    func dnsWildcard() throws {
        let matcher = try IdentityMatcher.dns("*.example.com")
        #expect(matcher.matches(try Fixtures.leaf([.dns("api.example.com")])))
        #expect(matcher.matches(try Fixtures.leaf([.dns("API.EXAMPLE.com")])))
        #expect(!matcher.matches(try Fixtures.leaf([.dns("example.com")])))
        #expect(!matcher.matches(try Fixtures.leaf([.dns("a.b.example.com")])))
        #expect(!matcher.matches(try Fixtures.leaf([.dns("apiexample.com")])))
        #expect(!matcher.matches(try Fixtures.leaf([.dns("api.example.com.evil")])))
        #expect(!matcher.matches(try Fixtures.leaf([.dns("*.example.com")])), "a wildcard SAN is not an identity")
        #expect(matcher.description == "dns *.example.com")
    }

    @Test(
        "bad DNS patterns are refused",
        arguments: [
            ("", "1 to 253"), ("*.com", "two labels"), ("api.*.example.com", "whole first label"),
            ("a*.example.com", "whole first label"), ("-x.example.com", "start or end"), ("a..b", "1 to 63"),
            ("api example.com", "only letters"),
        ])
    func badDNS(name: String, expected: String) {
        let error = #expect(throws: PolicyError.self) { try IdentityMatcher.dns(name) }
        #expect(error?.reason.contains(expected) == true, "got: \(String(describing: error))")
    }

    @Test("a URI matcher compares one of the URI SANs exactly")
    func uri() throws {
        let matcher = try IdentityMatcher.uri("urn:example:x")
        #expect(matcher.matches(try Fixtures.leaf([.uri("urn:example:x")])))
        #expect(matcher.matches(try Fixtures.leaf([.uri("urn:example:y"), .uri("urn:example:x")])))
        #expect(!matcher.matches(try Fixtures.leaf([.uri("urn:example:X")])))
        #expect(!matcher.matches(try Fixtures.leaf([.uri("urn:example:x:y")])))
        #expect(!matcher.matches(try Fixtures.leaf([.dns("example.com")])))
        let error = #expect(throws: PolicyError.self) { try IdentityMatcher.uri("not a uri") }
        #expect(error?.reason.contains("not an absolute URI") == true)
    }

    @Test("a CN matcher compares the subject's single CN exactly")
    func commonName() throws {
        let matcher = IdentityMatcher.commonName("alice")
        #expect(matcher.matches(try Fixtures.leaf(subject: [("O", "Acme"), ("CN", "alice")])))
        #expect(!matcher.matches(try Fixtures.leaf(subject: [("CN", "Alice")])))
        #expect(!matcher.matches(try Fixtures.leaf(subject: [("CN", "alice2")])))
        #expect(!matcher.matches(try Fixtures.leaf(subject: [("OU", "alice")])))
        #expect(!matcher.matches(try Fixtures.leaf([.dns("alice")])))
        #expect(!matcher.matches(try Fixtures.leaf(subject: [("CN", "alice"), ("CN", "mallory")])), "ambiguous")
    }

    @Test("an OU matcher holds when any subject OU equals it exactly")
    func organizationalUnit() throws {
        let matcher = IdentityMatcher.organizationalUnit("ops")
        #expect(matcher.matches(try Fixtures.leaf(subject: [("OU", "ops"), ("CN", "alice")])))
        #expect(matcher.matches(try Fixtures.leaf(subject: [("OU", "dev"), ("OU", "ops")])))
        #expect(!matcher.matches(try Fixtures.leaf(subject: [("OU", "Ops")])))
        #expect(!matcher.matches(try Fixtures.leaf(subject: [("CN", "ops")])))
    }

    @Test("an SPKI pin matches the key, in bare base64 or curl's sha256// form, whatever else the certificate says")
    func spkiPin() throws {
        let key = try PrivateKey.generate()
        let leaf = try Fixtures.leaf([.dns("a.example.com")], key: key)
        let again = try Fixtures.leaf(subject: [("CN", "renewed")], key: key)
        let pin = key.publicKey.spkiSHA256Pin
        for text in [pin, "sha256//" + pin, String(pin.dropLast())] {
            let matcher = try IdentityMatcher.spkiPin(text)
            #expect(matcher.matches(leaf), "\(text)")
            #expect(matcher.matches(again))
            #expect(!matcher.matches(try Fixtures.leaf([.dns("a.example.com")])))
            #expect(matcher.description == "spki-pin sha256//" + pin)
        }
    }

    @Test(
        "bad SPKI pins are refused with what is wrong",
        arguments: [
            ("", "empty"), ("sha256//", "empty"), ("not base64!", "not base64"),
            (Data(repeating: 1, count: 20).base64EncodedString(), "20 bytes; a SHA-256 pin is 32 bytes"),
            ("sha1//" + Data(repeating: 1, count: 20).base64EncodedString(), "only SHA-256"),
            (String(repeating: "ab", count: 32), "looks like hex"),
        ])
    func badPins(pin: String, expected: String) {
        let error = #expect(throws: PolicyError.self) { try IdentityMatcher.spkiPin(pin) }
        #expect(error?.code == .invalidValue)
        #expect(error?.reason.contains(expected) == true, "got: \(String(describing: error))")
    }

    @Test("anyAuthenticated matches every certificate, even one with no names")
    func any() throws {
        #expect(IdentityMatcher.anyAuthenticated.matches(try Fixtures.leaf()))
        #expect(IdentityMatcher.anyAuthenticated.description == "any authenticated client")
    }

    @Test("matchers are values: equal when built from the same text")
    func hashable() throws {
        #expect(try IdentityMatcher.dns("*.example.com") == IdentityMatcher.dns("*.example.com"))
        #expect(
            try IdentityMatcher.spkiPin(String(repeating: "A", count: 43) + "=")
                == IdentityMatcher.spkiPin("sha256//" + String(repeating: "A", count: 43) + "="))
        #expect(IdentityMatcher.commonName("a") != IdentityMatcher.organizationalUnit("a"))
    }
}
