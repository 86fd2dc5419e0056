internal import COpenSSL
internal import CShims
import Foundation

/// PKCS#12 files for browsers' and operating systems' certificate stores.
public enum PKCS12Bundle {
    /// Key-derivation and MAC iterations. Encryption is OpenSSL 3's default PBES2 AES-256-CBC with PBKDF2, and the
    /// MAC is HMAC-SHA256; NSS (Firefox, Chromium on Linux) and current Windows and macOS import it.
    public static let iterations: Int32 = 100_000

    /// A DER PKCS#12 holding `certificate`, its `key`, and `chain` (intermediates, optionally the root).
    public static func make(
        certificate: Certificate, key: PrivateKey, chain: [Certificate], friendlyName: String?, passphrase: String
    ) throws -> [UInt8] {
        guard !passphrase.isEmpty else {
            throw X509Error(.invalidValue, "the PKCS#12 passphrase is empty; browsers refuse or mishandle such files")
        }
        guard key.matches(certificate.publicKey) else {
            throw X509Error(.invalidValue, "the private key does not belong to the certificate \(certificate.subject)")
        }
        guard let stack = OPENSSL_sk_new_null() else { throw OpenSSLErrorQueue.error(.internalError, "out of memory") }
        defer { symbolon_sk_X509_pop_free(stack) }
        for certificate in chain {
            X509_up_ref(certificate.handle.pointer)
            OPENSSL_sk_push(stack, UnsafeRawPointer(certificate.handle.pointer))
        }
        guard
            let p12 = PKCS12_create(
                passphrase, friendlyName, key.handle.pointer, certificate.handle.pointer, stack, 0, 0, iterations,
                iterations, 0)
        else { throw OpenSSLErrorQueue.error(.internalError, "cannot build the PKCS#12 bundle") }
        defer { PKCS12_free(p12) }
        return try OpenSSLSupport.der { i2d_PKCS12(p12, $0) }
    }

    /// Opens a PKCS#12: the certificate, key and any extra certificates. Throws `.wrongPassphrase` when the MAC
    /// does not verify.
    public static func open(der: [UInt8], passphrase: String) throws -> (Certificate, PrivateKey, [Certificate]) {
        let parsed = OpenSSLSupport.decode(der) { d2i_PKCS12(nil, $0, $1) }
        guard let p12 = parsed else { throw OpenSSLErrorQueue.error(.malformedInput, "not a PKCS#12 file") }
        defer { PKCS12_free(p12) }
        guard PKCS12_verify_mac(p12, passphrase, Int32(passphrase.utf8.count)) == 1 else {
            throw OpenSSLErrorQueue.error(.wrongPassphrase, "wrong passphrase for the PKCS#12 file")
        }
        var pkey: OpaquePointer?
        var x509: OpaquePointer?
        var extra: OpaquePointer?
        guard PKCS12_parse(p12, passphrase, &pkey, &x509, &extra) == 1, let pkey, let x509 else {
            throw OpenSSLErrorQueue.error(.malformedInput, "the PKCS#12 file does not hold a certificate and key")
        }
        var others: [Certificate] = []
        if let extra {
            for index in 0..<OpenSSLSupport.count(extra) {
                guard let item = OpenSSLSupport.element(extra, index) else { continue }
                X509_up_ref(item)
                others.append(try Certificate(owning: item))
            }
            symbolon_sk_X509_pop_free(extra)
        }
        return (try Certificate(owning: x509), PrivateKey(owning: pkey), others)
    }
}
