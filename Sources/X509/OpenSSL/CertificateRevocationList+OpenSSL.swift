internal import COpenSSL
internal import CShims
import Foundation

extension CertificateRevocationList {
    init(handle: OpenSSLObject, der: [UInt8]) {
        let crl = handle.pointer
        self.handle = handle
        self.der = der
        issuer = Certificate.name(X509_CRL_get_issuer(crl))
        thisUpdate = OpenSSLSupport.date(of: X509_CRL_get0_lastUpdate(crl))
        nextUpdate = X509_CRL_get0_nextUpdate(crl).map { OpenSSLSupport.date(of: $0) }
        if let raw = X509_CRL_get_ext_d2i(crl, NID_crl_number, nil, nil) {
            let integer = raw.assumingMemoryBound(to: ASN1_INTEGER.self)
            var value: UInt64 = 0
            number = ASN1_INTEGER_get_uint64(&value, integer) == 1 ? value : nil
            ASN1_INTEGER_free(integer)
        } else {
            number = nil
        }
        if let raw = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, nil, nil) {
            let aki = raw.assumingMemoryBound(to: AUTHORITY_KEYID.self)
            authorityKeyIdentifier = aki.pointee.keyid.map { OpenSSLSupport.bytes(of: $0) }
            AUTHORITY_KEYID_free(aki)
        } else {
            authorityKeyIdentifier = nil
        }
        var entries: [Entry] = []
        if let revoked = X509_CRL_get_REVOKED(crl) {
            for index in 0..<OpenSSLSupport.count(revoked) {
                guard let entry = OpenSSLSupport.element(revoked, index) else { continue }
                var reason: Int?
                if let raw = X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nil, nil) {
                    let enumerated = raw.assumingMemoryBound(to: ASN1_ENUMERATED.self)
                    reason = Int(ASN1_ENUMERATED_get(enumerated))
                    ASN1_ENUMERATED_free(enumerated)
                }
                entries.append(
                    Entry(
                        serial: OpenSSLSupport.hex(of: X509_REVOKED_get0_serialNumber(entry)),
                        revocationDate: OpenSSLSupport.date(of: X509_REVOKED_get0_revocationDate(entry)),
                        reasonCode: reason))
            }
        }
        self.entries = entries
    }

    static func parse(der: [UInt8]) throws -> CertificateRevocationList {
        guard der.count <= PEMBlock.maximumInputSize else { throw X509Error(.tooLarge, "the CRL is too large") }
        let parsed = OpenSSLSupport.decode(der) { d2i_X509_CRL(nil, $0, $1) }
        guard let crl = parsed else { throw OpenSSLErrorQueue.error(.malformedInput, "not a valid X.509 CRL") }
        return CertificateRevocationList(handle: OpenSSLObject(crl) { X509_CRL_free($0) }, der: der)
    }

    func verifySignature(_ issuer: Certificate) -> Bool {
        defer { _ = OpenSSLErrorQueue.drain() }
        return X509_CRL_verify(handle.pointer, issuer.publicKey.handle.pointer) == 1
    }

    static func createWithOpenSSL(
        issuer: Certificate, key: PrivateKey, number: UInt64, thisUpdate: Date, nextUpdate: Date, entries: [Entry]
    ) throws -> CertificateRevocationList {
        guard let crl = X509_CRL_new() else { throw OpenSSLErrorQueue.error(.internalError, "out of memory") }
        var owned: OpaquePointer? = crl
        defer { if let owned { X509_CRL_free(owned) } }
        let last = try OpenSSLSupport.asn1Time(thisUpdate)
        let next = try OpenSSLSupport.asn1Time(nextUpdate)
        guard X509_CRL_set_version(crl, 1) == 1,
            X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer.handle.pointer)) == 1,
            X509_CRL_set1_lastUpdate(crl, UnsafeMutablePointer(last.pointer)) == 1,
            X509_CRL_set1_nextUpdate(crl, UnsafeMutablePointer(next.pointer)) == 1
        else { throw OpenSSLErrorQueue.error(.internalError, "cannot set the CRL fields") }

        for entry in entries {
            guard let revoked = X509_REVOKED_new() else {
                throw OpenSSLErrorQueue.error(.internalError, "out of memory")
            }
            guard let serialBytes = hexBytes(entry.serial) else {
                X509_REVOKED_free(revoked)
                throw X509Error(.invalidValue, "serial \"\(entry.serial)\" is not hexadecimal")
            }
            let serial = try OpenSSLSupport.asn1Integer(bigEndian: serialBytes)
            let date = try OpenSSLSupport.asn1Time(entry.revocationDate)
            X509_REVOKED_set_serialNumber(revoked, UnsafeMutablePointer(serial.pointer))
            X509_REVOKED_set_revocationDate(revoked, UnsafeMutablePointer(date.pointer))
            if let code = entry.reasonCode, code != 0 {
                let reason = ASN1_ENUMERATED_new()
                ASN1_ENUMERATED_set(reason, code)
                X509_REVOKED_add1_ext_i2d(revoked, NID_crl_reason, UnsafeMutableRawPointer(reason), 0, 0)
                ASN1_ENUMERATED_free(reason)
            }
            withExtendedLifetime((serial, date)) {}
            guard X509_CRL_add0_revoked(crl, revoked) == 1 else {
                X509_REVOKED_free(revoked)
                throw OpenSSLErrorQueue.error(.internalError, "cannot add a CRL entry")
            }
        }
        let crlNumber = try OpenSSLSupport.asn1Integer(bigEndian: withUnsafeBytes(of: number.bigEndian, Array.init))
        guard X509_CRL_add1_ext_i2d(crl, NID_crl_number, UnsafeMutableRawPointer(crlNumber.pointer), 0, 0) == 1 else {
            throw OpenSSLErrorQueue.error(.internalError, "cannot add the CRL number")
        }
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer.handle.pointer, nil, nil, crl, 0)
        guard let aki = X509V3_EXT_conf_nid(nil, &context, NID_authority_key_identifier, "keyid:always") else {
            throw OpenSSLErrorQueue.error(.internalError, "cannot encode the authority key identifier")
        }
        defer { X509_EXTENSION_free(aki) }
        X509_CRL_add_ext(crl, aki, -1)
        withExtendedLifetime((last, next, crlNumber)) {}
        X509_CRL_sort(crl)
        guard X509_CRL_sign(crl, key.handle.pointer, PublicKey.signingDigest(key.handle.pointer)) > 0 else {
            throw OpenSSLErrorQueue.error(.internalError, "signing the CRL failed")
        }
        let der = try OpenSSLSupport.der { i2d_X509_CRL(crl, $0) }
        owned = nil
        return CertificateRevocationList(handle: OpenSSLObject(crl) { X509_CRL_free($0) }, der: der)
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        var digits = Array(hex.lowercased().utf8)
        guard !digits.isEmpty, digits.count <= 128 else { return nil }
        if digits.count % 2 == 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return bytes
    }
}
