import Foundation

/// Any JSON object key.
struct JSONKey: CodingKey {
    let stringValue: String
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

/// The top-level JSON object; decoding checks every key and type and builds the policy.
struct PolicyDocument: Decodable {
    static let topLevelKeys = ["allowUnauthenticated", "rules"]
    /// Condition keys, in the order a rule lists its matchers.
    static let conditionKeys = ["spiffeId", "uri", "dns", "cn", "ou", "spkiPin"]
    static let ruleKeys = ["name"] + conditionKeys + ["any"]

    let policy: AuthorizationPolicy

    init(from decoder: Decoder) throws {
        let object: KeyedDecodingContainer<JSONKey>
        do { object = try decoder.container(keyedBy: JSONKey.self) } catch {
            throw PolicyError(
                .wrongType, "the policy must be a JSON object: { \"rules\": [ … ], \"allowUnauthenticated\": false }")
        }
        try PolicyDocument.checkKeys(object, known: PolicyDocument.topLevelKeys, at: nil)
        var allowUnauthenticated = false
        if object.contains(JSONKey("allowUnauthenticated")) {
            allowUnauthenticated = try PolicyDocument.decode(
                Bool.self, "allowUnauthenticated", in: object, path: "allowUnauthenticated", expected: "true or false")
        }
        guard object.contains(JSONKey("rules")) else {
            throw PolicyError(
                .missingKey,
                "the policy has no \"rules\" array; add one (an empty array denies every client with a certificate)")
        }
        var list: UnkeyedDecodingContainer
        do { list = try object.nestedUnkeyedContainer(forKey: JSONKey("rules")) } catch {
            throw PolicyError(.wrongType, "must be an array of rule objects", path: "rules")
        }
        var rules: [AuthorizationRule] = []
        while !list.isAtEnd {
            let path = "rules[\(list.currentIndex)]"
            let rule: KeyedDecodingContainer<JSONKey>
            do { rule = try list.nestedContainer(keyedBy: JSONKey.self) } catch {
                _ = try? list.decode(IgnoredValue.self)  // step past the bad element so the index stays right
                throw PolicyError(
                    .wrongType, "must be a rule object such as { \"spiffeId\": \"spiffe://…\" }", path: path)
            }
            rules.append(try PolicyDocument.rule(rule, path: path))
        }
        policy = AuthorizationPolicy(rules: rules, allowUnauthenticated: allowUnauthenticated)
    }

    static func rule(_ object: KeyedDecodingContainer<JSONKey>, path: String) throws -> AuthorizationRule {
        try checkKeys(object, known: ruleKeys, at: path)
        let present = Set(object.allKeys.map(\.stringValue))
        let name = try present.contains("name") ? string("name", in: object, path: path) : nil
        if present.contains("any") {
            let any = try decode(Bool.self, "any", in: object, path: "\(path).any", expected: "true")
            guard any else {
                throw PolicyError(
                    .invalidValue, "\"any\" can only be true; to allow no one, leave the rule out",
                    path: "\(path).any")
            }
            let others = conditionKeys.filter(present.contains)
            guard others.isEmpty else {
                throw PolicyError(
                    .conflictingKeys,
                    "a rule with \"any\": true allows every authenticated client and cannot also hold "
                        + others.map { "\"\($0)\"" }.joined(separator: ", ")
                        + "; remove \"any\", or make that condition a rule of its own",
                    path: path)
            }
            return AuthorizationRule(name: name, .anyAuthenticated)
        }
        var matchers: [IdentityMatcher] = []
        for key in conditionKeys where present.contains(key) {
            let value = try string(key, in: object, path: path)
            do {
                switch key {
                case "spiffeId": matchers.append(try .spiffeID(value))
                case "uri": matchers.append(try .uri(value))
                case "dns": matchers.append(try .dns(value))
                case "cn": matchers.append(.commonName(value))
                case "ou": matchers.append(.organizationalUnit(value))
                default: matchers.append(try .spkiPin(value))
                }
            } catch let error as PolicyError {
                throw error.at("\(path).\(key)")
            }
        }
        guard !matchers.isEmpty else {
            throw PolicyError(
                .emptyRule,
                "the rule has no condition; give at least one of "
                    + conditionKeys.map { "\"\($0)\"" }.joined(separator: ", ")
                    + ", or \"any\": true to allow every authenticated client",
                path: path)
        }
        return try AuthorizationRule(name: name, matchers: matchers)
    }

    /// Refuses keys outside `known`, naming the key, the known ones, and the likely intended one.
    static func checkKeys(_ object: KeyedDecodingContainer<JSONKey>, known: [String], at path: String?) throws {
        let unknown = object.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
        guard let key = unknown.first else { return }
        var reason = "unknown key \"\(AuthorizationPolicy.escapingControlCharacters(String(key.prefix(80))))\""
        if let guess = known.first(where: { PolicyDocument.isLikelyTypo(key, of: $0) }) {
            reason += " (did you mean \"\(guess)\"?)"
        }
        reason += "; known keys: " + known.joined(separator: ", ")
        throw PolicyError(.unknownKey, reason, path: path.map { "\($0).\(key)" } ?? key)
    }

    /// A non-empty string without control characters (values end up in logs).
    static func string(_ key: String, in object: KeyedDecodingContainer<JSONKey>, path: String) throws -> String {
        let path = "\(path).\(key)"
        let value = try decode(String.self, key, in: object, path: path, expected: "a string")
        guard !value.isEmpty else { throw PolicyError(.invalidValue, "must not be empty", path: path) }
        guard AuthorizationPolicy.escapingControlCharacters(value) == value else {
            throw PolicyError(.invalidValue, "must not contain control characters (newlines, tabs …)", path: path)
        }
        return value
    }

    static func decode<Value: Decodable>(
        _ type: Value.Type, _ key: String, in object: KeyedDecodingContainer<JSONKey>, path: String, expected: String
    ) throws -> Value {
        do { return try object.decode(Value.self, forKey: JSONKey(key)) } catch is DecodingError {
            throw PolicyError(.wrongType, "must be \(expected)", path: path)
        }
    }

    /// Same letters ignoring case, or within two edits: `spiffeID`, `spifeId`, `CN`.
    static func isLikelyTypo(_ key: String, of known: String) -> Bool {
        let a = Array(key.lowercased().utf8)
        let b = Array(known.lowercased().utf8)
        guard !a.isEmpty, !b.isEmpty, abs(a.count - b.count) <= 2, a.count < 64 else { return false }
        var previous = Array(0...b.count)  // Levenshtein distance, one row at a time
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count] <= min(2, max(b.count / 2, 1))
    }
}

/// Any JSON value, decoded only to move past it.
private struct IgnoredValue: Decodable {
    init(from decoder: Decoder) throws {}
}
