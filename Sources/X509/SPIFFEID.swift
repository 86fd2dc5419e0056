/// A SPIFFE ID (`spiffe://trust-domain/path`), validated per the SPIFFE ID specification, section 2.
///
/// Rules: scheme `spiffe` (lowercase); a trust domain of lowercase letters, digits, `.`, `-` and `_`, at most 255
/// bytes; an optional path of `/`-separated segments of letters, digits, `.`, `-` and `_`, none empty, `.` or `..`,
/// no trailing `/`; no query, fragment, port or userinfo; at most 2048 bytes in all.
public struct SPIFFEID: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// The trust domain, e.g. `acme.internal`.
    public let trustDomain: String
    /// The path including its leading `/`, or empty.
    public let path: String

    /// Longest SPIFFE ID accepted, in bytes.
    public static let maximumLength = 2048
    /// Longest trust domain accepted, in bytes.
    public static let maximumTrustDomainLength = 255

    /// Parses and validates `text`; the error says which rule it breaks.
    public init(_ text: String) throws {
        func reject(_ why: String) -> X509Error {
            let shown = text.count > 80 ? String(text.prefix(80)) + "…" : text
            return X509Error(.invalidValue, "invalid SPIFFE ID \"\(shown)\": \(why)")
        }
        guard !text.isEmpty else { throw reject("it is empty") }
        guard text.utf8.count <= SPIFFEID.maximumLength else {
            throw reject("longer than \(SPIFFEID.maximumLength) bytes")
        }
        let prefix = "spiffe://"
        guard text.hasPrefix(prefix) else {
            if text.lowercased().hasPrefix(prefix) { throw reject("the scheme must be lowercase \"spiffe\"") }
            throw reject("it must start with spiffe://")
        }
        let rest = text.dropFirst(prefix.count)
        if rest.contains("?") { throw reject("a query is not allowed") }
        if rest.contains("#") { throw reject("a fragment is not allowed") }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let domain = String(rest[..<slash])
        let path = String(rest[slash...])
        try SPIFFEID.validateTrustDomain(domain, reject: reject)
        if !path.isEmpty {
            guard path != "/" else { throw reject("the path must not be only \"/\" (leave it out, or name a path)") }
            guard !path.hasSuffix("/") else { throw reject("the path must not end with \"/\"") }
            for segment in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                if segment.isEmpty { throw reject("the path has an empty segment (\"//\")") }
                if segment == "." || segment == ".." { throw reject("path segments \".\" and \"..\" are not allowed") }
                if let bad = segment.unicodeScalars.first(where: { !SPIFFEID.isPathCharacter($0) }) {
                    throw reject(
                        "the path has the character \"\(bad)\"; only letters, digits, \".\", \"-\" and \"_\" are allowed"
                    )
                }
            }
        }
        self.trustDomain = domain
        self.path = path
    }

    /// A SPIFFE ID from a trust domain and path (`/ns/payments/sa/api`), validated.
    public init(trustDomain: String, path: String) throws {
        try self.init("spiffe://\(trustDomain)\(path)")
    }

    /// Checks a bare trust domain name (`acme.internal`) against the specification's rules.
    public static func validateTrustDomain(_ domain: String) throws {
        try validateTrustDomain(domain) {
            X509Error(.invalidValue, "invalid trust domain \"\(domain.prefix(80))\": \($0)")
        }
    }

    private static func validateTrustDomain(_ domain: String, reject: (String) -> X509Error) throws {
        guard !domain.isEmpty else { throw reject("the trust domain is empty") }
        guard domain.utf8.count <= maximumTrustDomainLength else {
            throw reject("the trust domain is longer than \(maximumTrustDomainLength) bytes")
        }
        if domain.contains("@") { throw reject("userinfo is not allowed") }
        if domain.contains(":") { throw reject("a port is not allowed") }
        if let bad = domain.unicodeScalars.first(where: { !isTrustDomainCharacter($0) }) {
            throw reject(
                "the trust domain has the character \"\(bad)\"; only lowercase letters, digits, \".\", \"-\" and \"_\" are allowed"
            )
        }
    }

    private static func isTrustDomainCharacter(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "." || c == "-" || c == "_"
    }

    private static func isPathCharacter(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "." || c == "-"
            || c == "_"
    }

    /// The ID as a URI string.
    public var description: String { "spiffe://\(trustDomain)\(path)" }

    /// Whether this ID belongs to `trustDomain`.
    public func isMember(of trustDomain: String) -> Bool { self.trustDomain == trustDomain }

    public static func < (lhs: SPIFFEID, rhs: SPIFFEID) -> Bool { lhs.description < rhs.description }
}
