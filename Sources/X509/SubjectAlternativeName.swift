/// One subject alternative name (RFC 5280 4.2.1.6) of the kinds Symbolon issues and checks.
///
/// A closed enum is deliberate here: these are the RFC's GeneralName forms, and `other` carries the rest.
public enum SubjectAlternativeName: Sendable, Hashable, CustomStringConvertible {
    case dns(String)
    case ipAddress(String)
    case uri(String)
    case email(String)
    /// Any other GeneralName form, described (e.g. `DirName:…`, `othername:…`).
    case other(String)

    /// `DNS:api.acme.internal`, `IP:10.0.0.1`, `URI:spiffe://…`, `email:alice@example.com`.
    public var description: String {
        switch self {
        case .dns(let value): return "DNS:\(value)"
        case .ipAddress(let value): return "IP:\(value)"
        case .uri(let value): return "URI:\(value)"
        case .email(let value): return "email:\(value)"
        case .other(let value): return value
        }
    }
}
