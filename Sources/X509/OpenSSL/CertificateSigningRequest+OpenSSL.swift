internal import COpenSSL
internal import CShims
import Foundation

extension CertificateSigningRequest {
    static func parse(der: [UInt8]) throws -> CertificateSigningRequest {
        guard der.count <= Certificate.maximumDERSize else { throw X509Error(.tooLarge, "the CSR is too large") }
        let parsed = OpenSSLSupport.decode(der) { d2i_X509_REQ(nil, $0, $1) }
        guard let request = parsed else {
            throw OpenSSLErrorQueue.error(.malformedInput, "not a valid PKCS#10 certificate request")
        }
        defer { X509_REQ_free(request) }
        guard let key = X509_REQ_get0_pubkey(request) else {
            throw OpenSSLErrorQueue.error(
                .malformedInput, "the CSR's public key is malformed or of an unsupported type")
        }
        let valid = X509_REQ_verify(request, key) == 1
        _ = OpenSSLErrorQueue.drain()
        var names: [SubjectAlternativeName] = []
        if let extensions = X509_REQ_get_extensions(request) {
            defer { symbolon_sk_X509_EXTENSION_pop_free(extensions) }
            for index in 0..<OpenSSLSupport.count(extensions) {
                guard let ext = OpenSSLSupport.element(extensions, index),
                    OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_subject_alt_name,
                    let decoded = X509V3_EXT_d2i(ext)
                else { continue }
                let stack = OpaquePointer(decoded)
                names += Certificate.generalNames(stack: stack)
                GENERAL_NAMES_free(stack)
            }
        }
        return CertificateSigningRequest(
            der: der, subject: Certificate.name(X509_REQ_get_subject_name(request)),
            publicKey: PublicKey(
                borrowing: key,
                spkiDER: X509_REQ_get_X509_PUBKEY(request).flatMap { spki in
                    try? OpenSSLSupport.der { i2d_X509_PUBKEY(spki, $0) }
                }),
            names: names, valid: valid)
    }

    static func createWithOpenSSL(subject: DistinguishedName, names: [SubjectAlternativeName], key: PrivateKey) throws
        -> CertificateSigningRequest
    {
        guard let request = X509_REQ_new() else { throw OpenSSLErrorQueue.error(.internalError, "out of memory") }
        defer { X509_REQ_free(request) }
        let name = try OpenSSLNames.make(subject)
        defer { X509_NAME_free(name) }
        guard X509_REQ_set_version(request, 0) == 1, X509_REQ_set_subject_name(request, name) == 1,
            X509_REQ_set_pubkey(request, key.handle.pointer) == 1
        else { throw OpenSSLErrorQueue.error(.internalError, "cannot set the CSR fields") }
        if !names.isEmpty {
            let general = try OpenSSLNames.generalNames(names)
            defer { GENERAL_NAMES_free(general) }
            guard let extensions = OPENSSL_sk_new_null() else {
                throw OpenSSLErrorQueue.error(.internalError, "out of memory")
            }
            defer { symbolon_sk_X509_EXTENSION_pop_free(extensions) }
            guard let ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, UnsafeMutableRawPointer(general)) else {
                throw OpenSSLErrorQueue.error(.internalError, "cannot encode the requested names")
            }
            OPENSSL_sk_push(extensions, UnsafeRawPointer(ext))
            guard X509_REQ_add_extensions(request, extensions) == 1 else {
                throw OpenSSLErrorQueue.error(.internalError, "cannot add the requested names")
            }
        }
        guard X509_REQ_sign(request, key.handle.pointer, PublicKey.signingDigest(key.handle.pointer)) > 0 else {
            throw OpenSSLErrorQueue.error(.internalError, "signing the CSR failed")
        }
        let der = try OpenSSLSupport.der { i2d_X509_REQ(request, $0) }
        return try CertificateSigningRequest(der: der)
    }
}
