import Foundation
import X509

/// One condition on a verified client certificate: its SPIFFE ID, a URI or DNS SAN, its subject CN or OU, or the pin
/// of its public key.
///
/// Patterns are compiled when the matcher is made, so `matches(_:)` only compares bytes the certificate already
/// holds; it allocates nothing except for `spkiPin`, which hashes the certificate's SubjectPublicKeyInfo (about a
/// microsecond).
public struct IdentityMatcher: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case spiffeID(SPIFFEPattern)
        case uri(String)
        case dns(DNSPattern)
        case commonName(String)
        case organizationalUnit(String)
        case spkiPin([UInt8])
        case anyAuthenticated
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    /// A SPIFFE ID, exact (`spiffe://acme.internal/ns/payments/sa/api`) or a pattern: a path segment `*` matches
    /// exactly one segment, and a final `**` matches one or more (`spiffe://acme.internal/ns/payments/*`).
    ///
    /// The trust domain is always exact and wildcards are whole segments; everything else follows the SPIFFE ID
    /// rules of `SPIFFEID`. A certificate matches only when it is an X.509-SVID: exactly one URI SAN, which is the
    /// SPIFFE ID. Throws `PolicyError` (`.invalidValue`) naming the rule a bad pattern breaks.
    public static func spiffeID(_ pattern: String) throws -> IdentityMatcher {
        IdentityMatcher(.spiffeID(try SPIFFEPattern(pattern)))
    }

    /// A URI SAN, compared exactly (case-sensitive, no normalisation). Throws when `exact` is not an absolute URI.
    public static func uri(_ exact: String) throws -> IdentityMatcher {
        do { try SubjectAlternativeName.uri(exact).validate() } catch let error as X509Error {
            throw PolicyError(.invalidValue, error.reason + "; give the URI exactly as the certificate carries it")
        }
        return IdentityMatcher(.uri(exact))
    }

    /// A DNS SAN: `api.example.com` (ASCII case-insensitive), or `*.example.com`, which matches exactly one more
    /// label on the left (`api.example.com`, not `example.com` nor `a.b.example.com`). A wildcard SAN in the
    /// certificate (`*.example.com`) is not a client identity and matches no pattern. Throws for a malformed name.
    public static func dns(_ name: String) throws -> IdentityMatcher {
        IdentityMatcher(.dns(try DNSPattern(name)))
    }

    /// The subject's common name, exact. A subject with several CNs matches no CN matcher (it is ambiguous).
    public static func commonName(_ exact: String) -> IdentityMatcher {
        IdentityMatcher(.commonName(exact))
    }

    /// A subject organizational unit, exact: the matcher holds when any of the subject's OUs equals `exact`.
    public static func organizationalUnit(_ exact: String) -> IdentityMatcher {
        IdentityMatcher(.organizationalUnit(exact))
    }

    /// The SHA-256 pin of the certificate's SubjectPublicKeyInfo, in base64 (as `PublicKey.spkiSHA256Pin` prints
    /// it) or curl's `sha256//BASE64`. Throws unless it decodes to exactly 32 bytes.
    public static func spkiPin(_ pin: String) throws -> IdentityMatcher {
        IdentityMatcher(.spkiPin(try SPKIPin.decode(pin)))
    }

    /// Any client whose chain verified, whatever its names.
    public static let anyAuthenticated = IdentityMatcher(.anyAuthenticated)

    /// Whether `leaf` (a certificate whose chain has already been verified) satisfies this condition.
    public func matches(_ leaf: Certificate) -> Bool {
        switch kind {
        case .spiffeID(let pattern):
            guard let uri = IdentityMatcher.singleURI(of: leaf) else { return false }
            return pattern.matches(uri)
        case .uri(let exact):
            return leaf.subjectAlternativeNames.contains { if case .uri(exact) = $0 { true } else { false } }
        case .dns(let pattern):
            return leaf.subjectAlternativeNames.contains {
                if case .dns(let name) = $0 { pattern.matches(name) } else { false }
            }
        case .commonName(let exact):
            var found = false
            for attribute in leaf.subject.attributes where attribute.type == "CN" {
                if found || attribute.value != exact { return false }
                found = true
            }
            return found
        case .organizationalUnit(let exact):
            return leaf.subject.attributes.contains { $0.type == "OU" && $0.value == exact }
        case .spkiPin(let pin):
            return Digest.sha256(leaf.publicKey.spkiDER) == pin
        case .anyAuthenticated:
            return true
        }
    }

    /// The certificate's only URI SAN, or nil when it has none or several (X.509-SVIDs carry exactly one).
    static func singleURI(of leaf: Certificate) -> String? {
        var found: String?
        for name in leaf.subjectAlternativeNames {
            guard case .uri(let value) = name else { continue }
            if found != nil { return nil }
            found = value
        }
        return found
    }

    /// `spiffe-id spiffe://acme.internal/ns/payments/*`, `dns *.example.com`, `cn alice`, `ou ops`,
    /// `spki-pin sha256//…`, `uri urn:example:x` or `any authenticated client`.
    public var description: String {
        switch kind {
        case .spiffeID(let pattern): return "spiffe-id \(pattern.text)"
        case .uri(let exact): return "uri \(exact)"
        case .dns(let pattern): return "dns \(pattern.text)"
        case .commonName(let exact): return "cn \(exact)"
        case .organizationalUnit(let exact): return "ou \(exact)"
        case .spkiPin(let pin): return "spki-pin sha256//\(Data(pin).base64EncodedString())"
        case .anyAuthenticated: return "any authenticated client"
        }
    }
}
