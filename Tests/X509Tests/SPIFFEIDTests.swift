import Testing
import X509

@Suite("SPIFFE IDs")
struct SPIFFEIDTests {
    @Test(
        "valid SPIFFE IDs parse",
        arguments: [
            "spiffe://acme.internal", "spiffe://acme.internal/ns/payments/sa/api", "spiffe://a-b_c.9/x.y-z_0/A",
            "spiffe://td/" + String(repeating: "a", count: 2000),
        ])
    func valid(text: String) throws {
        let id = try SPIFFEID(text)
        #expect(id.description == text)
    }

    @Test(
        "invalid SPIFFE IDs are refused with the rule they break",
        arguments: [
            ("", "empty"), ("http://acme.internal/x", "spiffe://"), ("SPIFFE://acme.internal/x", "lowercase"),
            ("spiffe://", "trust domain is empty"), ("spiffe:///path", "trust domain is empty"),
            ("spiffe://Acme.internal/x", "character"), ("spiffe://acme.internal:8443/x", "port"),
            ("spiffe://user@acme.internal/x", "userinfo"), ("spiffe://acme.internal/x?y=1", "query"),
            ("spiffe://acme.internal/x#frag", "fragment"), ("spiffe://acme.internal/", "only \"/\""),
            ("spiffe://acme.internal/x/", "end with"), ("spiffe://acme.internal//x", "empty segment"),
            ("spiffe://acme.internal/./x", "\".\""), ("spiffe://acme.internal/x/..", "\"..\""),
            ("spiffe://acme.internal/x%20y", "character"), ("spiffe://acme.internal/ü", "character"),
            ("spiffe://" + String(repeating: "a", count: 256), "255"),
            ("spiffe://td/" + String(repeating: "a", count: 2040), "2048"),
        ])
    func invalid(text: String, expected: String) {
        let error = #expect(throws: X509Error.self) { try SPIFFEID(text) }
        #expect(error?.reason.contains(expected) == true, "got: \(String(describing: error))")
    }

    @Test("membership compares the trust domain exactly")
    func membership() throws {
        let id = try SPIFFEID("spiffe://acme.internal/x")
        #expect(id.isMember(of: "acme.internal"))
        #expect(!id.isMember(of: "internal"))
        #expect(!id.isMember(of: "evil-acme.internal"))
    }
}
