internal import COpenSSL
internal import CShims
import Foundation

extension CertificateBuilder {
    func signWithOpenSSL(issuer: Certificate?, issuerKey: PrivateKey) throws -> Certificate {
        guard let x509 = X509_new() else { throw OpenSSLErrorQueue.error(.internalError, "X509_new failed") }
        var owned: OpaquePointer? = x509
        defer { if let owned { X509_free(owned) } }

        let serialNumber = try OpenSSLSupport.asn1Integer(bigEndian: serial)
        let start = try OpenSSLSupport.asn1Time(notBefore)
        let end = try OpenSSLSupport.asn1Time(notAfter)
        let subjectName = try OpenSSLNames.make(subject)
        defer { X509_NAME_free(subjectName) }
        guard X509_set_version(x509, 2) == 1,
            X509_set_serialNumber(x509, UnsafeMutablePointer(serialNumber.pointer)) == 1,
            X509_set1_notBefore(x509, UnsafeMutablePointer(start.pointer)) == 1,
            X509_set1_notAfter(x509, UnsafeMutablePointer(end.pointer)) == 1,
            X509_set_subject_name(x509, subjectName) == 1,
            X509_set_issuer_name(x509, issuer.map { X509_get_subject_name($0.handle.pointer) } ?? subjectName) == 1,
            setPublicKey(x509)
        else { throw OpenSSLErrorQueue.error(.internalError, "cannot set the certificate fields") }

        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer?.handle.pointer ?? x509, x509, nil, nil, 0)
        func add(_ nid: Int32, _ value: String) throws {
            guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw OpenSSLErrorQueue.error(
                    .internalError,
                    "cannot encode the extension \(OBJ_nid2sn(nid).map { String(cString: $0) } ?? "\(nid)") = \(value)")
            }
            defer { X509_EXTENSION_free(ext) }
            guard X509_add_ext(x509, ext, -1) == 1 else {
                throw OpenSSLErrorQueue.error(.internalError, "cannot add an extension")
            }
        }
        func addEncoded(_ nid: Int32, _ critical: Int32, _ value: UnsafeMutableRawPointer) throws {
            guard let ext = X509V3_EXT_i2d(nid, critical, value) else {
                throw OpenSSLErrorQueue.error(.internalError, "cannot encode the extension \(nid)")
            }
            defer { X509_EXTENSION_free(ext) }
            guard X509_add_ext(x509, ext, -1) == 1 else {
                throw OpenSSLErrorQueue.error(.internalError, "cannot add an extension")
            }
        }

        if let constraints = basicConstraints {
            var value = "critical,CA:\(constraints.isCA ? "TRUE" : "FALSE")"
            if constraints.isCA, let length = constraints.pathLength { value += ",pathlen:\(length)" }
            try add(NID_basic_constraints, value)
        }
        if let usage = keyUsage, !usage.isEmpty {
            try add(NID_key_usage, "critical," + usage.names.joined(separator: ","))
        }
        if let usages = extendedKeyUsage, !usages.isEmpty {
            try add(NID_ext_key_usage, usages.map(\.oid).joined(separator: ","))
        }
        try add(NID_subject_key_identifier, "hash")
        if issuer != nil { try add(NID_authority_key_identifier, "keyid:always") }
        if !subjectAlternativeNames.isEmpty {
            let names = try OpenSSLNames.generalNames(subjectAlternativeNames)
            defer { GENERAL_NAMES_free(names) }
            // RFC 5280 4.2.1.6: the SAN extension is critical when the subject is empty.
            let critical: Int32 = subject.attributes.isEmpty ? 1 : 0
            try addEncoded(NID_subject_alt_name, critical, UnsafeMutableRawPointer(names))
        }
        if let constraints = nameConstraints {
            let encoded = try OpenSSLNames.nameConstraints(constraints)
            defer { NAME_CONSTRAINTS_free(encoded) }
            try addEncoded(NID_name_constraints, 1, UnsafeMutableRawPointer(encoded))
        }
        if !crlDistributionPoints.isEmpty {
            try add(NID_crl_distribution_points, crlDistributionPoints.map { "URI:\($0)" }.joined(separator: ","))
        }
        if !ocspURLs.isEmpty {
            try add(NID_info_access, ocspURLs.map { "OCSP;URI:\($0)" }.joined(separator: ","))
        }

        let key = issuerKey.handle.pointer
        guard X509_sign(x509, key, PublicKey.signingDigest(key)) > 0 else {
            throw OpenSSLErrorQueue.error(.internalError, "signing the certificate failed")
        }
        // The serial, times and name were copied into the X509 by the set1/set calls; keep our copies alive until
        // here anyway, so no optimisation can free them while OpenSSL still reads them.
        withExtendedLifetime((serialNumber, start, end)) {}
        owned = nil
        return try Certificate(owning: x509)
    }

    /// X509_set_pubkey, with a legacy copy for EC keys (see `PublicKey.legacyECCopy`).
    private func setPublicKey(_ x509: OpaquePointer) -> Bool {
        if let legacy = publicKey.legacyECCopy() {
            defer { EVP_PKEY_free(legacy) }
            return X509_set_pubkey(x509, legacy) == 1
        }
        return X509_set_pubkey(x509, publicKey.handle.pointer) == 1
    }
}

/// Builds OpenSSL name structures from Swift values, without going through OpenSSL's comma-separated
/// configuration strings (a value containing a comma could otherwise smuggle in a second name).
enum OpenSSLNames {
    /// A new X509_NAME; the caller frees it.
    static func make(_ name: DistinguishedName) throws -> OpaquePointer {
        guard let result = X509_NAME_new() else {
            throw OpenSSLErrorQueue.error(.internalError, "X509_NAME_new failed")
        }
        for attribute in name.attributes {
            guard !attribute.value.isEmpty, attribute.value.utf8.count <= 1024 else {
                X509_NAME_free(result)
                throw X509Error(.invalidValue, "the subject attribute \(attribute.type) must be 1 to 1024 bytes long")
            }
            let bytes = Array(attribute.value.utf8)
            guard
                X509_NAME_add_entry_by_txt(result, attribute.type, MBSTRING_UTF8, bytes, Int32(bytes.count), -1, 0) == 1
            else {
                X509_NAME_free(result)
                throw OpenSSLErrorQueue.error(
                    .invalidValue, "cannot encode the subject attribute \(attribute.type)=\(attribute.value.prefix(80))"
                )
            }
        }
        return result
    }

    static func generalName(_ name: SubjectAlternativeName, nameConstraint: Bool = false) throws
        -> UnsafeMutablePointer<GENERAL_NAME>
    {
        let (type, value): (Int32, String)
        switch name {
        case .dns(let v): (type, value) = (GEN_DNS, v)
        case .ipAddress(let v): (type, value) = (GEN_IPADD, v)
        case .uri(let v): (type, value) = (GEN_URI, v)
        case .email(let v): (type, value) = (GEN_EMAIL, v)
        case .other(let v): throw X509Error(.unsupported, "cannot encode the name \(v.prefix(80))")
        }
        guard let general = a2i_GENERAL_NAME(nil, nil, nil, type, value, nameConstraint ? 1 : 0) else {
            throw OpenSSLErrorQueue.error(.invalidValue, "cannot encode the name \(name.description.prefix(100))")
        }
        return general
    }

    /// A new GENERAL_NAMES stack; the caller frees it with GENERAL_NAMES_free.
    static func generalNames(_ names: [SubjectAlternativeName]) throws -> OpaquePointer {
        guard let stack = OPENSSL_sk_new_null() else { throw OpenSSLErrorQueue.error(.internalError, "out of memory") }
        for name in names {
            let general: UnsafeMutablePointer<GENERAL_NAME>
            do { general = try generalName(name) } catch {
                GENERAL_NAMES_free(stack)
                throw error
            }
            guard OPENSSL_sk_push(stack, general) > 0 else {
                GENERAL_NAME_free(general)
                GENERAL_NAMES_free(stack)
                throw OpenSSLErrorQueue.error(.internalError, "out of memory")
            }
        }
        return stack
    }

    /// A new NAME_CONSTRAINTS; the caller frees it.
    static func nameConstraints(_ constraints: NameConstraints) throws -> UnsafeMutablePointer<NAME_CONSTRAINTS> {
        guard let result = NAME_CONSTRAINTS_new() else {
            throw OpenSSLErrorQueue.error(.internalError, "out of memory")
        }
        func subtrees(_ names: [SubjectAlternativeName]) throws -> OpaquePointer? {
            guard !names.isEmpty else { return nil }
            guard let stack = OPENSSL_sk_new_null() else {
                throw OpenSSLErrorQueue.error(.internalError, "out of memory")
            }
            for name in names {
                guard let subtree = GENERAL_SUBTREE_new() else {
                    throw OpenSSLErrorQueue.error(.internalError, "out of memory")
                }
                GENERAL_NAME_free(subtree.pointee.base)
                subtree.pointee.base = try generalName(name, nameConstraint: true)
                OPENSSL_sk_push(stack, subtree)
            }
            return stack
        }
        do {
            result.pointee.permittedSubtrees = try subtrees(constraints.permitted)
            result.pointee.excludedSubtrees = try subtrees(constraints.excluded)
        } catch {
            NAME_CONSTRAINTS_free(result)
            throw error
        }
        return result
    }
}
