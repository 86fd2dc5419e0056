/// A private key type Symbolon can generate and use.
public struct KeyAlgorithm: Hashable, Sendable, CustomStringConvertible {
    enum Kind: Hashable, Sendable {
        case ec(curve: String)
        case ed25519
        case rsa(bits: Int)
    }

    let kind: Kind

    /// ECDSA on NIST P-256: the default, cheapest for TLS handshakes.
    public static let ecdsaP256 = KeyAlgorithm(kind: .ec(curve: "P-256"))
    /// ECDSA on NIST P-384.
    public static let ecdsaP384 = KeyAlgorithm(kind: .ec(curve: "P-384"))
    /// Ed25519 (RFC 8410). Browsers do not accept it for TLS client certificates yet.
    public static let ed25519 = KeyAlgorithm(kind: .ed25519)

    /// RSA with a modulus of `bits` (2048 to 4096, a multiple of 1024 is conventional).
    public static func rsa(bits: Int) throws -> KeyAlgorithm {
        guard (2048...4096).contains(bits) else {
            throw X509Error(.invalidValue, "RSA keys must be 2048 to 4096 bits, not \(bits)")
        }
        return KeyAlgorithm(kind: .rsa(bits: bits))
    }

    /// Parses `ec-p256` (or `p256`), `ec-p384`, `ed25519`, `rsa2048` … `rsa4096`.
    public init(name: String) throws {
        switch name.lowercased() {
        case "ec-p256", "p256", "p-256", "ecdsa-p256", "ec": self = .ecdsaP256
        case "ec-p384", "p384", "p-384", "ecdsa-p384": self = .ecdsaP384
        case "ed25519": self = .ed25519
        case let other where other.hasPrefix("rsa"):
            guard let bits = Int(other.dropFirst(3).drop(while: { $0 == "-" })) else {
                throw X509Error(.invalidValue, "unknown key type \"\(name)\"; use rsa2048, rsa3072 or rsa4096")
            }
            self = try .rsa(bits: bits)
        default:
            throw X509Error(
                .invalidValue,
                "unknown key type \"\(name)\"; use ec-p256 (default), ec-p384, ed25519 or rsa2048…rsa4096")
        }
    }

    init(kind: Kind) { self.kind = kind }

    /// The name `init(name:)` accepts.
    public var name: String {
        switch kind {
        case .ec(let curve): return curve == "P-256" ? "ec-p256" : "ec-p384"
        case .ed25519: return "ed25519"
        case .rsa(let bits): return "rsa\(bits)"
        }
    }

    public var description: String {
        switch kind {
        case .ec(let curve): return "ECDSA \(curve)"
        case .ed25519: return "Ed25519"
        case .rsa(let bits): return "RSA \(bits)"
        }
    }
}
