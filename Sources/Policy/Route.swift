import X509

/// One entry of a route policy: which requests it covers (methods, host, path) and who may make them.
public struct Route: Sendable, CustomStringConvertible {
    /// A label for logs and refusals; `#N` (its position) when the file gives none.
    public let name: String
    /// Upper-case method names; nil for every method.
    let methods: Set<String>?
    let host: DNSPattern?
    let path: RoutePathPattern
    /// Alternatives: the request is allowed when any matches.
    let allow: [AuthorizationRule]

    init(name: String, methods: Set<String>?, host: DNSPattern?, path: RoutePathPattern, allow: [AuthorizationRule]) {
        self.name = name
        self.methods = methods
        self.host = host
        self.path = path
        self.allow = allow
    }

    public var description: String {
        let methodText = methods.map { $0.sorted().joined(separator: ",") } ?? "*"
        return "\(name): \(methodText) \(host.map { $0.text } ?? "")\(path.text)"
    }

    /// Whether this route covers the request. `host` is the Host header without its port.
    func covers(method: String, host requestHost: String?, path requestPath: RequestPath) -> Bool {
        if let methods, !methods.contains(method) { return false }
        if let host {
            guard let requestHost, host.matches(requestHost) else { return false }
        }
        return path.matches(requestPath)
    }
}
