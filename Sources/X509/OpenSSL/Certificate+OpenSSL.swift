internal import COpenSSL
internal import CShims
import Foundation

extension Certificate {
    /// Largest certificate accepted, DER bytes.
    static let maximumDERSize = 256 * 1024

    static func parse(der: [UInt8]) throws -> Certificate {
        guard der.count <= maximumDERSize else {
            throw X509Error(.tooLarge, "certificate is larger than \(maximumDERSize / 1024) KiB")
        }
        let parsed = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let x509 = d2i_X509(nil, &cursor, buffer.count)
            // Trailing bytes after the certificate mean the input is not what it claims to be.
            if let x509, cursor != buffer.baseAddress.map({ $0 + buffer.count }) {
                X509_free(x509)
                return nil
            }
            return x509
        }
        guard let x509 = parsed else {
            throw OpenSSLErrorQueue.error(.malformedInput, "not a valid X.509 certificate (DER does not parse)")
        }
        return try Certificate(owning: x509, der: der)
    }

    /// Takes ownership of an X509 object.
    init(owning x509: OpaquePointer, der knownDER: [UInt8]? = nil) throws {
        let handle = OpenSSLObject(x509) { X509_free($0) }
        let der = try knownDER ?? OpenSSLSupport.der { i2d_X509(x509, $0) }
        guard let keyPointer = X509_get0_pubkey(x509) else {
            throw OpenSSLErrorQueue.error(.malformedInput, "the certificate's public key is not supported or malformed")
        }
        // X509_check_purpose(-1) computes OpenSSL's cached extension flags, and fails on malformed extensions.
        X509_check_purpose(x509, -1, 0)
        let flags = X509_get_extension_flags(x509)
        if flags & UInt32(EXFLAG_INVALID) != 0 {
            throw OpenSSLErrorQueue.error(.malformedInput, "the certificate has a malformed or duplicated extension")
        }
        let selfSigned = X509_self_signed(x509, 1) == 1
        self.init(
            der: der,
            version: Int(X509_get_version(x509)) + 1,
            serial: OpenSSLSupport.hex(of: X509_get0_serialNumber(x509)),
            subject: Certificate.name(X509_get_subject_name(x509)),
            issuer: Certificate.name(X509_get_issuer_name(x509)),
            notBefore: OpenSSLSupport.date(of: X509_get0_notBefore(x509)),
            notAfter: OpenSSLSupport.date(of: X509_get0_notAfter(x509)),
            publicKey: PublicKey(
                borrowing: keyPointer,
                spkiDER: X509_get_X509_PUBKEY(x509).flatMap { spki in
                    try? OpenSSLSupport.der { i2d_X509_PUBKEY(spki, $0) }
                }),
            signatureAlgorithm: String(cString: OBJ_nid2ln(X509_get_signature_nid(x509))),
            subjectAlternativeNames: Certificate.generalNames(extension: NID_subject_alt_name, of: x509),
            basicConstraints: Certificate.basicConstraints(of: x509),
            keyUsage: X509_get_ext_by_NID(x509, NID_key_usage, -1) >= 0
                ? KeyUsage(rawValue: X509_get_key_usage(x509)) : nil,
            extendedKeyUsage: Certificate.extendedKeyUsage(of: x509),
            nameConstraints: Certificate.nameConstraints(of: x509),
            subjectKeyIdentifier: X509_get0_subject_key_id(x509).map { OpenSSLSupport.bytes(of: $0) },
            authorityKeyIdentifier: X509_get0_authority_key_id(x509).map { OpenSSLSupport.bytes(of: $0) },
            crlDistributionPoints: Certificate.crlDistributionPoints(of: x509),
            ocspURLs: Certificate.accessLocations(of: x509, method: NID_ad_OCSP),
            caIssuerURLs: Certificate.accessLocations(of: x509, method: NID_ad_ca_issuers),
            isSelfSigned: selfSigned,
            handle: handle)
    }

    static func name(_ name: OpaquePointer?) -> DistinguishedName {
        guard let name else { return DistinguishedName() }
        var attributes: [DistinguishedName.Attribute] = []
        for index in 0..<X509_NAME_entry_count(name) {
            guard let entry = X509_NAME_get_entry(name, index) else { continue }
            let object = X509_NAME_ENTRY_get_object(entry)
            let nid = OBJ_obj2nid(object)
            let type = nid != NID_undef ? String(cString: OBJ_nid2sn(nid)) : OpenSSLSupport.dottedOID(of: object)
            attributes.append(.init(type: type, value: OpenSSLSupport.text(of: X509_NAME_ENTRY_get_data(entry))))
        }
        return DistinguishedName(attributes)
    }

    static func generalName(_ name: UnsafeMutablePointer<GENERAL_NAME>) -> SubjectAlternativeName {
        var type: Int32 = 0
        let value = GENERAL_NAME_get0_value(name, &type)
        let string = value.map { UnsafePointer<ASN1_STRING>($0.assumingMemoryBound(to: ASN1_STRING.self)) }
        switch type {
        case GEN_DNS: return .dns(String(decoding: OpenSSLSupport.bytes(of: string), as: UTF8.self))
        case GEN_URI: return .uri(String(decoding: OpenSSLSupport.bytes(of: string), as: UTF8.self))
        case GEN_EMAIL: return .email(String(decoding: OpenSSLSupport.bytes(of: string), as: UTF8.self))
        case GEN_IPADD: return .ipAddress(ipAddressText(OpenSSLSupport.bytes(of: string)))
        default:
            let text = OpenSSLSupport.withMemoryBIO { bio in GENERAL_NAME_print(bio, name) == 1 }
            return .other(text ?? "othername")
        }
    }

    /// An IP address SAN or name-constraint value: 4 or 16 bytes (an address), or 8 or 32 (address and mask).
    static func ipAddressText(_ bytes: [UInt8]) -> String {
        func format(_ address: ArraySlice<UInt8>) -> String {
            if address.count == 4 { return address.map(String.init).joined(separator: ".") }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            let ok = Array(address).withUnsafeBytes { raw in
                inet_ntop(AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count))
            }
            return ok != nil ? OpenSSLSupport.string(buffer) : address.hexString
        }
        switch bytes.count {
        case 4, 16: return format(bytes[...])
        case 8, 32: return format(bytes.prefix(bytes.count / 2)) + "/" + format(bytes.suffix(bytes.count / 2))
        default: return bytes.hexString
        }
    }

    static func generalNames(stack: OpaquePointer?) -> [SubjectAlternativeName] {
        guard let stack else { return [] }
        return (0..<OpenSSLSupport.count(stack)).compactMap { index in
            OPENSSL_sk_value(stack, Int32(index)).map { generalName($0.assumingMemoryBound(to: GENERAL_NAME.self)) }
        }
    }

    static func generalNames(extension nid: Int32, of x509: OpaquePointer) -> [SubjectAlternativeName] {
        guard let raw = X509_get_ext_d2i(x509, nid, nil, nil) else { return [] }
        let stack = OpaquePointer(raw)
        defer { GENERAL_NAMES_free(stack) }
        return generalNames(stack: stack)
    }

    static func basicConstraints(of x509: OpaquePointer) -> BasicConstraints? {
        guard let raw = X509_get_ext_d2i(x509, NID_basic_constraints, nil, nil) else { return nil }
        let constraints = raw.assumingMemoryBound(to: BASIC_CONSTRAINTS.self)
        defer { BASIC_CONSTRAINTS_free(constraints) }
        let pathLength = constraints.pointee.pathlen.map { Int(ASN1_INTEGER_get($0)) }
        return BasicConstraints(isCA: constraints.pointee.ca != 0, pathLength: pathLength)
    }

    static func extendedKeyUsage(of x509: OpaquePointer) -> [ExtendedKeyUsage]? {
        guard let raw = X509_get_ext_d2i(x509, NID_ext_key_usage, nil, nil) else { return nil }
        let stack = OpaquePointer(raw)
        defer { EXTENDED_KEY_USAGE_free(stack) }
        return (0..<OpenSSLSupport.count(stack)).compactMap { index in
            OpenSSLSupport.element(stack, index).map { ExtendedKeyUsage(oid: OpenSSLSupport.dottedOID(of: $0)) }
        }
    }

    static func nameConstraints(of x509: OpaquePointer) -> NameConstraints? {
        guard let raw = X509_get_ext_d2i(x509, NID_name_constraints, nil, nil) else { return nil }
        let constraints = raw.assumingMemoryBound(to: NAME_CONSTRAINTS.self)
        defer { NAME_CONSTRAINTS_free(constraints) }
        func subtrees(_ stack: OpaquePointer?) -> [SubjectAlternativeName] {
            guard let stack else { return [] }
            return (0..<OpenSSLSupport.count(stack)).compactMap { index in
                guard
                    let subtree = OPENSSL_sk_value(stack, Int32(index))?.assumingMemoryBound(to: GENERAL_SUBTREE.self),
                    let base = subtree.pointee.base
                else { return nil }
                return generalName(base)
            }
        }
        return NameConstraints(
            permitted: subtrees(constraints.pointee.permittedSubtrees),
            excluded: subtrees(constraints.pointee.excludedSubtrees))
    }

    static func crlDistributionPoints(of x509: OpaquePointer) -> [String] {
        guard let raw = X509_get_ext_d2i(x509, NID_crl_distribution_points, nil, nil) else { return [] }
        let stack = OpaquePointer(raw)
        defer { CRL_DIST_POINTS_free(stack) }
        var uris: [String] = []
        for index in 0..<OpenSSLSupport.count(stack) {
            guard let point = OPENSSL_sk_value(stack, Int32(index))?.assumingMemoryBound(to: DIST_POINT.self),
                let name = point.pointee.distpoint, name.pointee.type == 0
            else { continue }
            for general in generalNames(stack: name.pointee.name.fullname) {
                if case .uri(let uri) = general { uris.append(uri) }
            }
        }
        return uris
    }

    static func accessLocations(of x509: OpaquePointer, method: Int32) -> [String] {
        guard let raw = X509_get_ext_d2i(x509, NID_info_access, nil, nil) else { return [] }
        let stack = OpaquePointer(raw)
        defer { AUTHORITY_INFO_ACCESS_free(stack) }
        var uris: [String] = []
        for index in 0..<OpenSSLSupport.count(stack) {
            guard let access = OPENSSL_sk_value(stack, Int32(index))?.assumingMemoryBound(to: ACCESS_DESCRIPTION.self),
                OBJ_obj2nid(access.pointee.method) == method, let location = access.pointee.location,
                case .uri(let uri) = generalName(location)
            else { continue }
            uris.append(uri)
        }
        return uris
    }
}
