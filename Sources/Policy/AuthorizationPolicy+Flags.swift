extension AuthorizationPolicy {
    /// A policy from command-line flags (`--allow-spiffe-id`, `--allow-uri`, `--allow-dns`, `--allow-cn`,
    /// `--allow-ou`, `--allow-spki-pin`, `--allow-all`): every value becomes a rule of its own, so any one of them
    /// lets a client in. Errors name the flag and say what is wrong with its value.
    public static func fromFlags(
        spiffeIDs: [String] = [], uris: [String] = [], dnsNames: [String] = [], commonNames: [String] = [],
        organizationalUnits: [String] = [], spkiPins: [String] = [], allowAll: Bool = false
    ) throws -> AuthorizationPolicy {
        var rules: [AuthorizationRule] = []
        func add(_ values: [String], flag: String, _ make: (String) throws -> IdentityMatcher) throws {
            for value in values {
                guard !value.isEmpty else {
                    throw PolicyError(.invalidValue, "the value is empty; give one identity per flag", path: flag)
                }
                do { rules.append(AuthorizationRule(try make(value))) } catch let error as PolicyError {
                    throw error.at(flag)
                }
            }
        }
        try add(spiffeIDs, flag: "--allow-spiffe-id") { try .spiffeID($0) }
        try add(uris, flag: "--allow-uri") { try .uri($0) }
        try add(dnsNames, flag: "--allow-dns") { try .dns($0) }
        try add(commonNames, flag: "--allow-cn") { .commonName($0) }
        try add(organizationalUnits, flag: "--allow-ou") { .organizationalUnit($0) }
        try add(spkiPins, flag: "--allow-spki-pin") { try .spkiPin($0) }
        if allowAll { rules.append(AuthorizationRule(.anyAuthenticated)) }
        // Merging drops a value given twice.
        return AuthorizationPolicy(rules: rules).merged(with: AuthorizationPolicy(rules: []))
    }
}
