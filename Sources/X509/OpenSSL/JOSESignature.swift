internal import COpenSSL
internal import CShims
import Foundation

/// Signatures in the form JOSE (RFC 7515/7518) uses: ES256/ES384 as the fixed-width `r || s` pair, EdDSA as is.
/// OpenSSL makes and checks them; this only changes the ECDSA encoding between DER and JOSE's fixed width.
extension PrivateKey {
    /// The JWS `alg` for this key: `ES256` (P-256), `ES384` (P-384), `EdDSA` (Ed25519); nil for other keys.
    public var joseAlgorithm: String? { publicKey.joseAlgorithm }

    /// Signs `message` (the JWS signing input) for `joseAlgorithm`.
    public func joseSignature(_ message: [UInt8]) throws -> [UInt8] {
        guard let algorithm = joseAlgorithm else {
            throw X509Error(.unsupported, "\(publicKey) keys cannot sign JWS here; use P-256, P-384 or Ed25519")
        }
        let pkey = handle.pointer
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLErrorQueue.error(.internalError, "no digest context") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, PublicKey.signingDigest(pkey), nil, pkey) == 1 else {
            throw OpenSSLErrorQueue.error(.internalError, "cannot start signing")
        }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else {
            throw OpenSSLErrorQueue.error(.internalError, "cannot size the signature")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            throw OpenSSLErrorQueue.error(.internalError, "signing failed")
        }
        signature.removeSubrange(length...)
        guard algorithm != "EdDSA" else { return signature }
        return try PublicKey.fixedWidth(derECDSA: signature, width: algorithm == "ES256" ? 32 : 48)
    }
}

extension PublicKey {
    /// The JWS `alg` this key verifies, or nil.
    public var joseAlgorithm: String? {
        switch algorithmDescription {
        case "ECDSA P-256": return "ES256"
        case "ECDSA P-384": return "ES384"
        case "Ed25519": return "EdDSA"
        default: return nil
        }
    }

    /// Whether `signature` (JOSE form) is this key's signature over `message`.
    public func verifyJOSESignature(_ signature: [UInt8], message: [UInt8]) -> Bool {
        guard let algorithm = joseAlgorithm else { return false }
        var der = signature
        if algorithm != "EdDSA" {
            let width = algorithm == "ES256" ? 32 : 48
            guard signature.count == 2 * width, let encoded = PublicKey.der(fixedWidthECDSA: signature) else {
                return false
            }
            der = encoded
        }
        var cursor: UnsafePointer<UInt8>? = nil
        return spkiDER.withUnsafeBufferPointer { buffer -> Bool in
            cursor = buffer.baseAddress
            guard let pkey = d2i_PUBKEY(nil, &cursor, buffer.count) else { return false }
            defer { EVP_PKEY_free(pkey) }
            guard let context = EVP_MD_CTX_new() else { return false }
            defer { EVP_MD_CTX_free(context) }
            guard EVP_DigestVerifyInit(context, nil, PublicKey.signingDigest(pkey), nil, pkey) == 1 else {
                _ = OpenSSLErrorQueue.drain()
                return false
            }
            let valid = EVP_DigestVerify(context, der, der.count, message, message.count) == 1
            _ = OpenSSLErrorQueue.drain()
            return valid
        }
    }

    static func fixedWidth(derECDSA der: [UInt8], width: Int) throws -> [UInt8] {
        var cursor: UnsafePointer<UInt8>? = nil
        return try der.withUnsafeBufferPointer { buffer in
            cursor = buffer.baseAddress
            guard let signature = d2i_ECDSA_SIG(nil, &cursor, buffer.count) else {
                throw OpenSSLErrorQueue.error(.internalError, "OpenSSL returned a malformed ECDSA signature")
            }
            defer { ECDSA_SIG_free(signature) }
            var out = [UInt8](repeating: 0, count: 2 * width)
            guard let r = ECDSA_SIG_get0_r(signature), let s = ECDSA_SIG_get0_s(signature),
                BN_bn2binpad(r, &out, Int32(width)) == width,
                out.withUnsafeMutableBufferPointer({ BN_bn2binpad(s, $0.baseAddress! + width, Int32(width)) }) == width
            else { throw OpenSSLErrorQueue.error(.internalError, "cannot encode the ECDSA signature") }
            return out
        }
    }

    static func der(fixedWidthECDSA raw: [UInt8]) -> [UInt8]? {
        let width = raw.count / 2
        guard let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        guard let r = BN_bin2bn(raw, Int32(width), nil) else { return nil }
        guard let s = raw.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress! + width, Int32(width), nil) }) else {
            BN_free(r)
            return nil
        }
        guard ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_ECDSA_SIG(signature, &out)
        guard length > 0, let out else { return nil }
        defer { symbolon_OPENSSL_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }
}
