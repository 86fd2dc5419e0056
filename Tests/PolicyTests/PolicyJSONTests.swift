import Foundation
import TestSupport
import Testing
import X509

@testable import Policy

@Suite("Policy JSON")
struct PolicyJSONTests {
    static func parse(_ text: String) throws -> AuthorizationPolicy {
        try AuthorizationPolicy.parse(json: Data(text.utf8))
    }

    @Test("the documented example parses into the rules it says")
    func example() throws {
        let key = try PrivateKey.generate()
        let policy = try Self.parse(
            """
            { "allowUnauthenticated": false,
              "rules": [
                { "name": "payments", "spiffeId": "spiffe://acme.internal/ns/payments/*" },
                { "name": "ops", "ou": "ops", "cn": "alice" },
                { "dns": "api.example.com" }, { "uri": "urn:example:x" },
                { "spkiPin": "sha256//\(key.publicKey.spkiSHA256Pin)" } ] }
            """)
        #expect(policy.rules.count == 5)
        #expect(!policy.allowUnauthenticated)
        #expect(policy.rules[1].description == "ops (cn alice and ou ops)")
        #expect(policy.description.hasPrefix("5 rules: payments (spiffe-id spiffe://acme.internal/ns/payments/*), ops"))
        #expect(policy.evaluate(try Fixtures.svid("spiffe://acme.internal/ns/payments/api")).rule == "payments")
        #expect(policy.evaluate(try Fixtures.leaf(subject: [("OU", "ops"), ("CN", "alice")])).rule == "ops")
        #expect(!policy.evaluate(try Fixtures.leaf(subject: [("CN", "alice")])).isAllowed)
        #expect(policy.evaluate(try Fixtures.leaf([.dns("API.example.com")])).isAllowed)
        #expect(policy.evaluate(try Fixtures.leaf([.uri("urn:example:x")])).isAllowed)
        #expect(policy.evaluate(try Fixtures.leaf(key: key)).isAllowed)
        #expect(!policy.evaluate(try Fixtures.leaf([.dns("web.example.com")])).isAllowed)

        let open = try Self.parse(#"{"allowUnauthenticated": true, "rules": [{"name": "all", "any": true}]}"#)
        #expect(open.allowUnauthenticated)
        #expect(open.evaluate(nil).isAllowed)
        #expect(open.evaluate(try Fixtures.leaf()).rule == "all")
        #expect(try Self.parse(#"{"rules": []}"#).isEmpty)
        #expect(try AuthorizationPolicy.parse(json: Array(#"{"rules": [{"cn": "a"}]}"#.utf8)).rules.count == 1)
    }

    @Test("the example in docs/policy.md is a valid policy")
    func documentedExample() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../docs/policy.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let block = try #require(text.components(separatedBy: "```json\n").dropFirst().first)
        let json = try #require(block.components(separatedBy: "```").first)
        let policy = try Self.parse(json)
        #expect(
            policy.rules.map(\.label) == [
                "payments", "ops", "dns api.example.com", "uri urn:example:x",
                "spki-pin sha256//n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", "everyone",
            ])
    }

    @Test(
        "bad documents are refused with a code, the JSON path and what to do",
        arguments: [
            (
                #"{"rules": [ {"cn": "a"}, ]"#, PolicyError.Code.invalidJSON, nil,
                "not valid JSON: Unexpected end of file"
            ),
            (
                "{\n  \"rules\": [\n    {\"cn\" \"a\"} ]}", .invalidJSON, nil,
                "(line 3, column 11); check commas, quotes"
            ),
            ("", .invalidJSON, nil, "not valid JSON"),
            (#"[]"#, .wrongType, nil, "must be a JSON object"),
            (#"{}"#, .missingKey, nil, "no \"rules\" array"),
            (#"{"rules": [], "allowUnauthenticated": "yes"}"#, .wrongType, "allowUnauthenticated", "true or false"),
            (
                #"{"rules": [], "allowUnauthenticaed": true}"#, .unknownKey, "allowUnauthenticaed",
                "unknown key \"allowUnauthenticaed\" (did you mean \"allowUnauthenticated\"?); known keys: allowUnauthenticated, rules"
            ),
            (#"{"rules": {"cn": "a"}}"#, .wrongType, "rules", "must be an array"),
            (#"{"rules": ["cn"]}"#, .wrongType, "rules[0]", "must be a rule object"),
            (
                #"{"rules": [{"cn": "a"}, {"spiffeID": "spiffe://acme.internal/x"}]}"#, .unknownKey,
                "rules[1].spiffeID",
                "unknown key \"spiffeID\" (did you mean \"spiffeId\"?); known keys: name, spiffeId, uri, dns, cn, ou, spkiPin, any"
            ),
            (#"{"rules": [{"cn": "a", "commonName": "b"}]}"#, .unknownKey, "rules[0].commonName", "known keys: name"),
            (#"{"rules": [{"cn": 5}]}"#, .wrongType, "rules[0].cn", "must be a string"),
            (#"{"rules": [{"ou": ["ops"]}]}"#, .wrongType, "rules[0].ou", "must be a string"),
            (#"{"rules": [{"dns": null}]}"#, .wrongType, "rules[0].dns", "must be a string"),
            (#"{"rules": [{"name": 1, "cn": "a"}]}"#, .wrongType, "rules[0].name", "must be a string"),
            (#"{"rules": [{"cn": ""}]}"#, .invalidValue, "rules[0].cn", "must not be empty"),
            (#"{"rules": [{"cn": "a\nb"}]}"#, .invalidValue, "rules[0].cn", "control characters"),
            (#"{"rules": [{}]}"#, .emptyRule, "rules[0]", "the rule has no condition; give at least one of"),
            (#"{"rules": [{"name": "x"}]}"#, .emptyRule, "rules[0]", "no condition"),
            (#"{"rules": [{"any": true, "cn": "a"}]}"#, .conflictingKeys, "rules[0]", "cannot also hold \"cn\""),
            (#"{"rules": [{"any": false}]}"#, .invalidValue, "rules[0].any", "can only be true"),
            (#"{"rules": [{"any": "true"}]}"#, .wrongType, "rules[0].any", "must be true"),
            (#"{"rules": [{"any": 1}]}"#, .wrongType, "rules[0].any", "must be true"),
            (#"{"rules": [], "allowUnauthenticated": 1}"#, .wrongType, "allowUnauthenticated", "true or false"),
            (
                #"{"rules": [{"cn": "a"}, {"cn": "b"}, {"spiffeId": "spiffe://*.acme.internal/x"}]}"#, .invalidValue,
                "rules[2].spiffeId", "trust domain cannot be wildcarded"
            ),
            (
                #"{"rules": [{"spiffeId": "spiffe://acme.internal/ns/"}]}"#, .invalidValue, "rules[0].spiffeId",
                "must not end with \"/\""
            ),
            (
                #"{"rules": [{"spkiPin": "sha256//AAAA"}]}"#, .invalidValue, "rules[0].spkiPin",
                "decodes to 3 bytes; a SHA-256 pin is 32 bytes"
            ),
            (#"{"rules": [{"dns": "*.com"}]}"#, .invalidValue, "rules[0].dns", "two labels"),
            (#"{"rules": [{"uri": "no scheme"}]}"#, .invalidValue, "rules[0].uri", "absolute URI"),
        ] as [(String, PolicyError.Code, String?, String)])
    func errors(json: String, code: PolicyError.Code, path: String?, expected: String) {
        let error = #expect(throws: PolicyError.self) { try Self.parse(json) }
        #expect(error?.code == code, "got: \(String(describing: error))")
        #expect(error?.path == path, "got: \(String(describing: error))")
        #expect(error?.reason.contains(expected) == true, "got: \(String(describing: error))")
    }

    @Test("a policy file loads, and its errors name the file and the JSON path")
    func file() throws {
        let directory = TemporaryDirectory()
        let good = try directory.write("policy.json", #"{"rules": [{"dns": "*.example.com"}]}"#)
        #expect(try AuthorizationPolicy.load(file: good).description == "1 rule: dns *.example.com")
        let bad = try directory.write("bad.json", #"{"rules": [{"dns": "api.example.com", "ou ": "ops"}]}"#)
        let error = #expect(throws: PolicyError.self) { try AuthorizationPolicy.load(file: bad) }
        #expect(error?.file == bad)
        #expect(
            error?.description.hasPrefix("\(bad): rules[0].ou : unknown key \"ou \" (did you mean \"ou\"?)") == true)
        let missing = #expect(throws: PolicyError.self) { try AuthorizationPolicy.load(file: directory.file("none")) }
        #expect(missing?.code == .io)
        #expect(missing?.description == "\(directory.file("none")): no such file")
    }

    @Test("a policy larger than 1 MiB is refused before it is parsed")
    func oversized() throws {
        let directory = TemporaryDirectory()
        let padding = String(repeating: " ", count: AuthorizationPolicy.maximumDocumentSize)
        let path = try directory.write("big.json", #"{"rules": []}"# + padding)
        let error = #expect(throws: PolicyError.self) { try AuthorizationPolicy.load(file: path) }
        #expect(error?.code == .tooLarge)
        #expect(
            error?.description
                == "\(path): the file is larger than 1 MiB (1048576 bytes); split it or use wider patterns")
        let inMemory = #expect(throws: PolicyError.self) { try Self.parse(#"{"rules": []}"# + padding) }
        #expect(inMemory?.code == .tooLarge)
        let justUnder = #"{"rules": []}"# + String(repeating: " ", count: AuthorizationPolicy.maximumDocumentSize - 13)
        #expect(try Self.parse(justUnder).isEmpty)
    }

    @Test("a key repeated in one object is refused rather than one value silently winning")
    func duplicateKeys() {
        for (json, path) in [
            (
                #"{"rules": [{"cn": "a"}, {"spiffeId": "spiffe://acme.internal/a", "spiffeId": "spiffe://acme.internal/b"}]}"#,
                "rules[1]"
            ),
            (#"{"rules": [{"cn": "a", "c\u006e": "b"}]}"#, "rules[0]"),
            (#"{"rules": [], "allowUnauthenticated": true, "allowUnauthenticated": false}"#, nil),
            (#"{"rules": [{"cn": "a", "cn": 5}]}"#, "rules[0]"),
        ] as [(String, String?)] {
            let error = #expect(throws: PolicyError.self) { try Self.parse(json) }
            #expect(error?.code == .duplicateKey, "\(json) got: \(String(describing: error))")
            #expect(error?.path == path, "\(json)")
            #expect(error?.reason.contains("appears more than once in this object; keep one") == true)
        }
        let fine = #"{"rules": [{"name": "x\"cn", "cn": "a"}, {"cn": "b", "ou": "cn"}], "x": 1}"#
        let error = #expect(throws: PolicyError.self) { try Self.parse(fine) }
        #expect(error?.code == .unknownKey, "keys inside strings and in other objects are not duplicates")
    }
}
