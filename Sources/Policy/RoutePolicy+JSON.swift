import Foundation

extension RoutePolicy {
    /// Reads a JSON route policy file (format in docs/http.md); errors name the file and the JSON path.
    public static func load(file path: String) throws -> RoutePolicy {
        try PolicyJSON.load(RouteDocument.self, file: path).policy
    }

    /// Parses a JSON route policy document (format in docs/http.md).
    public static func parse(json: Data) throws -> RoutePolicy {
        try PolicyJSON.decode(RouteDocument.self, json: json).policy
    }
}

/// The route policy's top-level JSON object, checked key by key like the connection policy.
struct RouteDocument: Decodable {
    static let routeKeys = ["name", "methods", "host", "path", "pathPrefix", "allow"]

    let policy: RoutePolicy

    init(from decoder: Decoder) throws {
        let object: KeyedDecodingContainer<JSONKey>
        do { object = try decoder.container(keyedBy: JSONKey.self) } catch {
            throw PolicyError(.wrongType, "the route policy must be a JSON object: { \"routes\": [ … ] }")
        }
        try PolicyDocument.checkKeys(object, known: ["routes"], at: nil)
        guard object.contains(JSONKey("routes")) else {
            throw PolicyError(.missingKey, "the route policy has no \"routes\" array")
        }
        var list: UnkeyedDecodingContainer
        do { list = try object.nestedUnkeyedContainer(forKey: JSONKey("routes")) } catch {
            throw PolicyError(.wrongType, "must be an array of route objects", path: "routes")
        }
        var routes: [Route] = []
        while !list.isAtEnd {
            let path = "routes[\(list.currentIndex)]"
            let route: KeyedDecodingContainer<JSONKey>
            do { route = try list.nestedContainer(keyedBy: JSONKey.self) } catch {
                throw PolicyError(
                    .wrongType, "must be a route object such as { \"path\": \"/orders\", \"allow\": [ … ] }",
                    path: path)
            }
            routes.append(try RouteDocument.route(route, path: path, position: routes.count + 1))
        }
        policy = RoutePolicy(routes: routes)
    }

    private static func route(_ object: KeyedDecodingContainer<JSONKey>, path: String, position: Int) throws -> Route {
        try PolicyDocument.checkKeys(object, known: routeKeys, at: path)
        let present = Set(object.allKeys.map(\.stringValue))
        let name = try present.contains("name") ? PolicyDocument.string("name", in: object, path: path) : "#\(position)"
        var methods: Set<String>?
        if present.contains("methods") {
            let list = try PolicyDocument.decode(
                [String].self, "methods", in: object, path: "\(path).methods", expected: "an array of method names")
            guard !list.isEmpty else {
                throw PolicyError(
                    .invalidValue, "an empty list allows no method; leave \"methods\" out for every method",
                    path: "\(path).methods")
            }
            for (index, method) in list.enumerated()
            where method.isEmpty || method.uppercased() != method
                || !method.utf8.allSatisfy({ (0x41...0x5A).contains($0) || $0 == UInt8(ascii: "-") })
            {
                throw PolicyError(
                    .invalidValue, "a method is an upper-case name such as GET or POST",
                    path: "\(path).methods[\(index)]")
            }
            methods = Set(list)
        }
        var host: DNSPattern?
        if present.contains("host") {
            do { host = try DNSPattern(try PolicyDocument.string("host", in: object, path: path)) } catch let error
                as PolicyError
            { throw error.path == nil ? error.at("\(path).host") : error }
        }
        let pathPattern: RoutePathPattern
        switch (present.contains("path"), present.contains("pathPrefix")) {
        case (true, true):
            throw PolicyError(.conflictingKeys, "give \"path\" or \"pathPrefix\", not both", path: path)
        case (false, false):
            throw PolicyError(
                .missingKey, "a route needs \"path\" (exact, * and a final /**) or \"pathPrefix\"", path: path)
        case (true, false):
            pathPattern = try pattern("path", kind: .exact, in: object, path: path)
        case (false, true):
            pathPattern = try pattern("pathPrefix", kind: .prefix, in: object, path: path)
        }
        guard present.contains("allow") else {
            throw PolicyError(
                .missingKey, "a route needs \"allow\": a list of rules (docs/policy.md), e.g. [ { \"any\": true } ]",
                path: path)
        }
        var list: UnkeyedDecodingContainer
        do { list = try object.nestedUnkeyedContainer(forKey: JSONKey("allow")) } catch {
            throw PolicyError(.wrongType, "must be an array of rule objects", path: "\(path).allow")
        }
        var rules: [AuthorizationRule] = []
        while !list.isAtEnd {
            let rulePath = "\(path).allow[\(list.currentIndex)]"
            let rule: KeyedDecodingContainer<JSONKey>
            do { rule = try list.nestedContainer(keyedBy: JSONKey.self) } catch {
                throw PolicyError(
                    .wrongType, "must be a rule object such as { \"spiffeId\": \"spiffe://…\" }", path: rulePath)
            }
            rules.append(try PolicyDocument.rule(rule, path: rulePath))
        }
        guard !rules.isEmpty else {
            throw PolicyError(
                .emptyRule, "an empty \"allow\" list lets no one in; remove the route to deny, or add rules",
                path: "\(path).allow")
        }
        return Route(name: name, methods: methods, host: host, path: pathPattern, allow: rules)
    }

    private static func pattern(
        _ key: String, kind: RoutePathPattern.Kind, in object: KeyedDecodingContainer<JSONKey>, path: String
    ) throws -> RoutePathPattern {
        let text = try PolicyDocument.string(key, in: object, path: path)
        do { return try RoutePathPattern(text, kind: kind) } catch let error as PolicyError {
            throw error.at("\(path).\(key)")
        }
    }
}
