import X509

/// Who may call what: routes (method, host, path) tried in order, the first that covers a request deciding by its
/// own allow rules; a request no route covers is denied. Evaluated per request after the connection-level policy.
public struct RoutePolicy: Sendable, CustomStringConvertible {
    public let routes: [Route]

    public init(routes: [Route]) { self.routes = routes }

    /// The decision for one request, and the route that made it (nil when none covers the request).
    public struct Decision: Sendable {
        public let route: String?
        public let authorization: AuthorizationDecision
        public var isAllowed: Bool { authorization.isAllowed }
    }

    /// Decides for one request. `host` is the Host header (a port is ignored), `leaf` the client's verified
    /// certificate (nil when the connection allowed a client without one).
    public func evaluate(method: String, host: String?, path: RequestPath, leaf: Certificate?) -> Decision {
        let bareHost = host.map(RoutePolicy.withoutPort)
        guard let route = routes.first(where: { $0.covers(method: method, host: bareHost, path: path) }) else {
            return Decision(
                route: nil,
                authorization: AuthorizationDecision(
                    isAllowed: false, rule: nil,
                    reason:
                        "no route matches \(method) \(AuthorizationPolicy.escapingControlCharacters(path.description))"
                ))
        }
        guard let leaf else {
            return Decision(
                route: route.name,
                authorization: AuthorizationDecision(
                    isAllowed: false, rule: nil,
                    reason: "route \"\(route.name)\" needs a client certificate"))
        }
        if let rule = route.allow.first(where: { $0.matches(leaf) }) {
            return Decision(
                route: route.name,
                authorization: AuthorizationDecision(isAllowed: true, rule: rule.label, reason: rule.allowedReason))
        }
        return Decision(
            route: route.name,
            authorization: AuthorizationDecision(
                isAllowed: false, rule: nil,
                reason: "route \"\(route.name)\" does not allow \(AuthorizationPolicy.identity(of: leaf))"))
    }

    public var description: String { "\(routes.count) route\(routes.count == 1 ? "" : "s")" }

    /// `api.example.com:8443` → `api.example.com`; `[::1]:8443` → `::1`.
    static func withoutPort(_ host: String) -> String {
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            return String(host[host.index(after: host.startIndex)..<close])
        }
        if let colon = host.lastIndex(of: ":") { return String(host[..<colon]) }
        return host
    }
}
