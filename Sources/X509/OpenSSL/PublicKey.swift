internal import COpenSSL
internal import CShims
import Foundation

/// A public key, held as its DER SubjectPublicKeyInfo.
public struct PublicKey: Sendable, Hashable, CustomStringConvertible {
    /// DER SubjectPublicKeyInfo.
    public let spkiDER: [UInt8]
    /// Human description: `ECDSA P-256`, `RSA 2048`, `Ed25519`.
    public let algorithmDescription: String
    let handle: OpenSSLObject

    /// Parses a DER SubjectPublicKeyInfo.
    public init(spkiDER: [UInt8]) throws {
        let pkey = OpenSSLSupport.decode(spkiDER) { d2i_PUBKEY(nil, $0, $1) }
        guard let pkey else { throw OpenSSLErrorQueue.error(.malformedInput, "not a valid public key") }
        self.init(owning: pkey)
    }

    /// Takes ownership of an EVP_PKEY reference. `spkiDER`, when the caller has it, saves an i2d_PUBKEY, which in
    /// OpenSSL 3.0 runs the provider encoder (tens of microseconds).
    init(owning pkey: OpaquePointer, spkiDER known: [UInt8]? = nil) {
        handle = OpenSSLObject(pkey) { EVP_PKEY_free($0) }
        spkiDER = known ?? (try? OpenSSLSupport.der { i2d_PUBKEY(pkey, $0) }) ?? []
        algorithmDescription = PublicKey.describe(pkey)
    }

    /// A new reference to an EVP_PKEY that stays owned by its caller.
    init(borrowing pkey: OpaquePointer, spkiDER known: [UInt8]? = nil) {
        EVP_PKEY_up_ref(pkey)
        self.init(owning: pkey, spkiDER: known)
    }

    /// For EC keys, a new legacy (EC_KEY-backed) copy of the key; nil for other types. X509_set_pubkey encodes a
    /// legacy key directly, where OpenSSL 3.0 runs a provider key through its encoder and then its decoder
    /// (~230 µs against ~5 µs, measured in bench/). The caller frees the copy.
    func legacyECCopy() -> OpaquePointer? {
        let pkey = handle.pointer
        guard EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC else { return nil }
        var point: UnsafeMutablePointer<UInt8>?
        let length = EVP_PKEY_get1_encoded_public_key(pkey, &point)
        guard length > 0, let point else { return nil }
        defer { symbolon_OPENSSL_free(point) }
        guard let duplicate = EVP_PKEY_dup(pkey) else { return nil }
        var target: OpaquePointer? = duplicate
        var cursor: UnsafePointer<UInt8>? = UnsafePointer(point)
        guard d2i_PublicKey(EVP_PKEY_EC, &target, &cursor, Int(length)) != nil, let target else {
            EVP_PKEY_free(duplicate)
            _ = OpenSSLErrorQueue.drain()
            return nil
        }
        return target
    }

    /// The SPKI pin: base64 of SHA-256 over the DER SubjectPublicKeyInfo (as in HPKP / Envoy's `verify_certificate_spki`).
    public var spkiSHA256Pin: String { Data(Digest.sha256(spkiDER)).base64EncodedString() }

    public var description: String { algorithmDescription }

    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool { lhs.spkiDER == rhs.spkiDER }
    public func hash(into hasher: inout Hasher) { hasher.combine(spkiDER) }

    static func describe(_ pkey: OpaquePointer) -> String {
        let bits = EVP_PKEY_get_bits(pkey)
        switch EVP_PKEY_get_base_id(pkey) {
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            if EVP_PKEY_get_group_name(pkey, &name, name.count, &length) == 1 {
                let curve = OpenSSLSupport.string(name)
                let common = ["prime256v1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"]
                return "ECDSA \(common[curve] ?? curve)"
            }
            return "ECDSA \(bits)-bit"
        case EVP_PKEY_ED25519: return "Ed25519"
        case EVP_PKEY_RSA: return "RSA \(bits)"
        default: return "\(String(cString: OBJ_nid2sn(EVP_PKEY_get_base_id(pkey)))) \(bits)-bit"
        }
    }

    /// The digest to sign with for this key type (nil for Ed25519, which signs the message itself).
    static func signingDigest(_ pkey: OpaquePointer) -> OpaquePointer? {
        switch EVP_PKEY_get_base_id(pkey) {
        case EVP_PKEY_ED25519, EVP_PKEY_ED448: return nil
        case EVP_PKEY_EC where EVP_PKEY_get_bits(pkey) > 256: return EVP_sha384()
        default: return EVP_sha256()
        }
    }
}

extension PublicKey {
    /// Why a CA should refuse to certify this key, or nil when it is acceptable: RSA of 2048 bits or more,
    /// ECDSA on P-256, P-384 or P-521, Ed25519. (DSA, small RSA and other curves are refused.)
    public var weaknessForIssuance: String? {
        switch algorithmDescription {
        case "ECDSA P-256", "ECDSA P-384", "ECDSA P-521", "Ed25519": return nil
        case let text where text.hasPrefix("RSA "):
            let bits = Int(text.dropFirst(4)) ?? 0
            return bits >= 2048 ? nil : "RSA \(bits) is too small; use at least 2048 bits (or ECDSA P-256)"
        default:
            return "\(algorithmDescription) keys are not accepted; use ECDSA P-256/P-384, Ed25519 or RSA ≥ 2048"
        }
    }
}
