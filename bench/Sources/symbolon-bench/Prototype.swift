// The bench's models of the proposed changes to Sources/ (bench/README.md, "Proposals"). They issue the same
// certificates (the phases command checks the to-be-signed bytes are identical to CertificateBuilder's) into the
// same store through the same group-commit insert; what differs is how the OpenSSL work is done:
//
//   tier A (no change in what is checked):
//     A1  the subject key enters X509_set_pubkey as a legacy EC EVP_PKEY (LegacyPublicKey), so OpenSSL 3.0 does
//         not run its provider encoder *and* decoder for every certificate;
//     A2  the leaf's fields are read without re-encoding its key through OSSL_ENCODER (recordFields);
//     A3/A4  the self-check verifies the leaf against an X509_STORE built once per authority, with the intermediate
//         (checked against the root once) as partial-chain trust anchor (IssuerSelfCheck): no per-certificate
//         re-verification of the intermediate, no re-wrapping of the chain (whose root re-parse verifies the root's
//         self-signature every time);
//     A5  one ISO8601DateFormatter per issue() call;
//     A6  extensions that are the same for every leaf of a profile encoded once (ProfileExtensions).
//   tier C: the returned certificate's fields come from the builder's own values (only the DER is read back);
//         X509_sign_ctx from a signing context initialised once per authority (EVP_MD_CTX_copy_ex) instead of
//         X509_sign's per-call algorithm fetch; the audit event's date written without ISO8601DateFormatter.
//
// (Tier B of bench/README.md was not adopted and is not modelled.)
//
// It uses OpenSSL directly (COpenSSL is a declared dependency of the bench target), only to measure what Sources/
// could do. `symbolon-bench issuance` uses none of it without --prototype.

import COpenSSL
import Foundation
import PrivateCA
import X509

/// Owns an X509 or X509_STORE pointer.
final class OpenSSLBox: @unchecked Sendable {
    let pointer: OpaquePointer
    private let free: (OpaquePointer) -> Void
    init(_ pointer: OpaquePointer, free: @escaping (OpaquePointer) -> Void) {
        self.pointer = pointer
        self.free = free
    }
    deinit { free(pointer) }

    /// Lends the pointer while keeping its owner alive (Swift may otherwise release a local box right after
    /// reading `pointer`).
    func with<Result>(_ body: (OpaquePointer) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(self) { try body(pointer) }
    }
}

enum RawOpenSSL {
    static func x509(der: [UInt8]) throws -> OpenSSLBox {
        let parsed = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let parsed else { throw BenchError("d2i_X509 failed") }
        return OpenSSLBox(parsed) { X509_free($0) }
    }

    static func privateKey(pemFile path: String) throws -> OpenSSLBox {
        try privateKey(pem: [UInt8](Data(contentsOf: URL(fileURLWithPath: path))), what: path)
    }

    static func privateKey(pem: [UInt8], what: String = "PEM") throws -> OpenSSLBox {
        let key = pem.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { throw BenchError("cannot read the private key \(what)") }
        return OpenSSLBox(key) { EVP_PKEY_free($0) }
    }

    /// ECDSA signature over a 32-byte digest.
    static func signDigest(_ key: OpaquePointer, _ digest: [UInt8]) -> [UInt8] {
        guard let context = EVP_PKEY_CTX_new(key, nil) else { return [] }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_sign_init(context) == 1 else { return [] }
        return signDigest(context: context, digest)
    }

    /// ECDSA signature with a context set up once, as `openssl speed ecdsap256` signs.
    static func signDigest(context: OpaquePointer, _ digest: [UInt8]) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: 80)
        var length = signature.count
        guard EVP_PKEY_sign(context, &signature, &length, digest, digest.count) == 1 else { return [] }
        return Array(signature.prefix(length))
    }

    /// Signatures per CPU-second of this thread (openssl speed divides by CPU time too), for about `seconds`.
    static func signRate(_ key: OpaquePointer, seconds: Double) -> Double {
        func cpu() -> Double {
            var now = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
            return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        }
        let digest = Digest.sha256(Array("symbolon-bench".utf8))
        guard let context = EVP_PKEY_CTX_new(key, nil), EVP_PKEY_sign_init(context) == 1 else { return 0 }
        defer { EVP_PKEY_CTX_free(context) }
        let start = cpu()
        var count = 0
        while cpu() - start < seconds {
            for _ in 0..<50 { _ = signDigest(context: context, digest) }
            count += 50
        }
        return Double(count) / (cpu() - start)
    }

    static func verifyDigest(_ key: OpaquePointer, _ digest: [UInt8], _ signature: [UInt8]) -> Bool {
        guard let context = EVP_PKEY_CTX_new(key, nil) else { return false }
        defer { EVP_PKEY_CTX_free(context) }
        return EVP_PKEY_verify_init(context) == 1
            && EVP_PKEY_verify(context, signature, signature.count, digest, digest.count) == 1
    }
}

/// The proposed self-check: one X509_STORE per authority whose only trust anchor is the intermediate (checked
/// against the root once, when the authority is opened), X509_V_FLAG_PARTIAL_CHAIN so the chain stops there.
/// OpenSSL still applies the intermediate's name constraints, path length, CA and key-usage checks and validity
/// period to every leaf, and still verifies the leaf's signature; what it no longer repeats per certificate is the
/// intermediate's signature by the root (immutable after opening) and the Swift re-parsing of the whole chain.
final class IssuerSelfCheck: @unchecked Sendable {
    private let store: OpenSSLBox
    private let intermediate: OpenSSLBox
    private let rootNotAfter: Date

    init(root: Certificate, intermediate certificate: Certificate) throws {
        // Once: the full check of the intermediate by the root, with the verifier relying parties use.
        if case .failure(let failure) = ChainVerifier(trustRoots: [root]).verify(
            leaf: certificate, intermediates: [], policy: VerificationPolicy())
        {
            throw BenchError("the intermediate does not verify against the root: \(failure.reason)")
        }
        intermediate = try RawOpenSSL.x509(der: certificate.der)
        guard let made = X509_STORE_new() else { throw BenchError("X509_STORE_new failed") }
        store = OpenSSLBox(made) { X509_STORE_free($0) }
        X509_STORE_add_cert(made, intermediate.pointer)
        X509_STORE_set_flags(made, UInt(X509_V_FLAG_PARTIAL_CHAIN) | UInt(X509_V_FLAG_X509_STRICT))
        rootNotAfter = root.notAfter
    }

    /// nil when `leaf` verifies at `time` for `purpose` (X509_PURPOSE_SSL_CLIENT / _SERVER), else OpenSSL's reason.
    func check(leaf: OpaquePointer, time: Date, purpose: Int32) -> String? {
        guard time <= rootNotAfter else { return "the root has expired" }
        guard let context = X509_STORE_CTX_new() else { return "out of memory" }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store.pointer, leaf, nil) == 1 else { return "X509_STORE_CTX_init failed" }
        X509_VERIFY_PARAM_set_time(
            X509_STORE_CTX_get0_param(context), time_t(time.timeIntervalSince1970.rounded(.down)))
        X509_STORE_CTX_set_purpose(context, purpose)
        if X509_verify_cert(context) == 1 { return nil }
        let error = X509_STORE_CTX_get_error(context)
        ERR_clear_error()
        return X509_verify_cert_error_string(Int(error)).map { String(cString: $0) } ?? "error \(error)"
    }
}

/// A public key as a "legacy" (EC_KEY-backed) EVP_PKEY, made once per key.
///
/// OpenSSL 3.0 encodes a provider-native EVP_PKEY (what EVP_PKEY_generate and every d2i_PUBKEY / d2i_X509 return)
/// through OSSL_ENCODER: X509_set_pubkey → X509_PUBKEY_set runs the encoder *and* the decoder, and i2d_PUBKEY runs
/// the encoder, each hundreds of µs (openssl/openssl#19119, #20051, PR #19344). For a legacy key both take the old
/// ameth->pub_encode path. d2i_PublicKey with an existing EC key of the right curve downgrades (non-deprecated API).
final class LegacyPublicKey: @unchecked Sendable {
    let key: OpenSSLBox

    init(_ publicKey: PublicKey) throws {
        let provider = try publicKey.spkiDER.withUnsafeBufferPointer { buffer -> OpaquePointer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let key = d2i_PUBKEY(nil, &cursor, buffer.count) else { throw BenchError("d2i_PUBKEY failed") }
            return key
        }
        defer { EVP_PKEY_free(provider) }
        var point: UnsafeMutablePointer<UInt8>?
        let length = EVP_PKEY_get1_encoded_public_key(provider, &point)
        guard length > 0, let point else { throw BenchError("no encoded public key") }
        defer { CRYPTO_free(point, #file, #line) }
        guard let duplicate = EVP_PKEY_dup(provider) else { throw BenchError("EVP_PKEY_dup failed") }
        var target: OpaquePointer? = duplicate
        var cursor: UnsafePointer<UInt8>? = UnsafePointer(point)
        guard d2i_PublicKey(EVP_PKEY_EC, &target, &cursor, Int(length)) != nil, let target else {
            EVP_PKEY_free(target)
            throw BenchError("d2i_PublicKey failed")
        }
        key = OpenSSLBox(target) { EVP_PKEY_free($0) }
        guard EVP_PKEY_get0_asn1(target) != nil else { throw BenchError("the key did not become a legacy key") }
        // The subject key identifier depends only on the key: computed once, as X509V3_EXT_conf_nid("hash") does.
        guard let holder = X509_new() else { throw BenchError("X509_new failed") }
        defer { X509_free(holder) }
        X509_set_pubkey(holder, target)
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, nil, holder, nil, nil, 0)
        guard let ext = X509V3_EXT_conf_nid(nil, &context, NID_subject_key_identifier, "hash") else {
            throw BenchError("subject key identifier")
        }
        subjectKeyIdentifier = OpenSSLBox(ext) { X509_EXTENSION_free($0) }
    }

    let subjectKeyIdentifier: OpenSSLBox
}

/// The extensions that are the same for every leaf of one profile under one issuer (basic constraints, key usage,
/// extended key usage, authority key identifier), encoded once.
final class ProfileExtensions: @unchecked Sendable {
    let fixed: [OpenSSLBox]

    /// Takes them from a leaf signed the ordinary way, so they are byte for byte what CertificateBuilder writes.
    init(from leaf: OpaquePointer) throws {
        fixed = try [NID_basic_constraints, NID_key_usage, NID_ext_key_usage, NID_authority_key_identifier].map { nid in
            let index = X509_get_ext_by_NID(leaf, nid, -1)
            guard index >= 0, let ext = X509_get_ext(leaf, index), let copy = X509_EXTENSION_dup(ext) else {
                throw BenchError("the template leaf lacks extension \(nid)")
            }
            return OpenSSLBox(copy) { X509_EXTENSION_free($0) }
        }
    }
}

/// Tier C: an EVP_MD_CTX set up once for ECDSA-SHA256 with the issuing key; each certificate signs with a copy
/// (EVP_DigestSignInit fetches the digest and signature implementations by name every time it runs).
final class SigningContext: @unchecked Sendable {
    private let template: OpaquePointer

    init(issuerKey: OpaquePointer) throws {
        guard let context = EVP_MD_CTX_new() else { throw BenchError("EVP_MD_CTX_new failed") }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, issuerKey) == 1 else {
            EVP_MD_CTX_free(context)
            throw BenchError("EVP_DigestSignInit failed")
        }
        template = context
    }

    deinit { EVP_MD_CTX_free(template) }

    func sign(_ x509: OpaquePointer) throws {
        guard let context = EVP_MD_CTX_new() else { throw BenchError("EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_MD_CTX_copy_ex(context, template) == 1, X509_sign_ctx(x509, context) > 0 else {
            throw BenchError("X509_sign_ctx failed")
        }
    }
}

/// Tier C: "2026-05-04T10:11:12Z" for a date, as ISO8601DateFormatter writes it, without a formatter.
func iso8601UTC(_ date: Date) -> String {
    var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):"
        + "\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
}

/// What a leaf needs to be built: the values CertificateAuthority.prepare puts into its CertificateBuilder.
struct LeafTemplate {
    var organization: String
    var spiffeID: String
    var subjectKey: LegacyPublicKey
    var notBefore: Date
    var notAfter: Date
    var serial: [UInt8] = CertificateBuilder.randomSerial()
}

/// CertificateBuilder.signWithOpenSSL, call for call, except that the subject key is a LegacyPublicKey.
enum FastLeafSigner {
    static func sign(
        _ leaf: LeafTemplate, issuer: OpaquePointer, issuerKey: OpaquePointer, prepared: ProfileExtensions? = nil,
        signer: SigningContext? = nil
    ) throws -> OpenSSLBox {
        guard let x509 = X509_new() else { throw BenchError("X509_new failed") }
        let box = OpenSSLBox(x509) { X509_free($0) }
        guard let bn = BN_bin2bn(leaf.serial, Int32(leaf.serial.count), nil) else { throw BenchError("BN failed") }
        defer { BN_free(bn) }
        guard let serial = BN_to_ASN1_INTEGER(bn, nil) else { throw BenchError("serial failed") }
        defer { ASN1_INTEGER_free(serial) }
        guard let start = ASN1_TIME_set(nil, time_t(leaf.notBefore.timeIntervalSince1970.rounded(.down))),
            let end = ASN1_TIME_set(nil, time_t(leaf.notAfter.timeIntervalSince1970.rounded(.down)))
        else { throw BenchError("time failed") }
        defer {
            ASN1_TIME_free(start)
            ASN1_TIME_free(end)
        }
        guard let subject = X509_NAME_new() else { throw BenchError("name failed") }
        defer { X509_NAME_free(subject) }
        let organization = Array(leaf.organization.utf8)
        guard
            X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, organization, Int32(organization.count), -1, 0)
                == 1,
            X509_set_version(x509, 2) == 1, X509_set_serialNumber(x509, serial) == 1,
            X509_set1_notBefore(x509, start) == 1, X509_set1_notAfter(x509, end) == 1,
            X509_set_subject_name(x509, subject) == 1, X509_set_issuer_name(x509, X509_get_subject_name(issuer)) == 1,
            X509_set_pubkey(x509, leaf.subjectKey.key.pointer) == 1
        else { throw BenchError("cannot set the certificate fields") }
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer, x509, nil, nil, 0)
        func add(_ nid: Int32, _ value: String) throws {
            guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else { throw BenchError("extension \(nid)") }
            defer { X509_EXTENSION_free(ext) }
            guard X509_add_ext(x509, ext, -1) == 1 else { throw BenchError("add extension") }
        }
        if let prepared {
            // Same extensions, same order; only the SAN is encoded per certificate.
            for ext in prepared.fixed.prefix(3) { X509_add_ext(x509, ext.pointer, -1) }
            X509_add_ext(x509, leaf.subjectKey.subjectKeyIdentifier.pointer, -1)
            X509_add_ext(x509, prepared.fixed[3].pointer, -1)
        } else {
            try add(NID_basic_constraints, "critical,CA:FALSE")
            try add(NID_key_usage, "critical,digitalSignature")
            try add(NID_ext_key_usage, "1.3.6.1.5.5.7.3.1,1.3.6.1.5.5.7.3.2")
            try add(NID_subject_key_identifier, "hash")
            try add(NID_authority_key_identifier, "keyid:always")
        }
        guard let names = OPENSSL_sk_new_null() else { throw BenchError("out of memory") }
        defer { GENERAL_NAMES_free(names) }
        guard let uri = a2i_GENERAL_NAME(nil, nil, nil, GEN_URI, leaf.spiffeID, 0) else { throw BenchError("SAN") }
        OPENSSL_sk_push(names, uri)
        guard let san = X509V3_EXT_i2d(NID_subject_alt_name, 0, UnsafeMutableRawPointer(names)) else {
            throw BenchError("SAN extension")
        }
        defer { X509_EXTENSION_free(san) }
        X509_add_ext(x509, san, -1)
        if let signer {
            try signer.sign(x509)
        } else {
            guard X509_sign(x509, issuerKey, EVP_sha256()) > 0 else { throw BenchError("X509_sign failed") }
        }
        return box
    }

    /// The DER of the to-be-signed part (what the signature covers), for comparing two ways of building a leaf.
    static func tbs(_ x509: OpaquePointer) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_re_X509_tbs(x509, &out)
        guard length > 0, let out else { return [] }
        defer { CRYPTO_free(out, #file, #line) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    /// The OpenSSL work of Certificate(owning:) for a freshly signed leaf, minus what the proposal removes
    /// (re-encoding the public key through OSSL_ENCODER): DER, cached extension flags, serial, names, validity,
    /// every extension decoded once. Returns the record fields the CA stores.
    static func der(_ x509: OpaquePointer) throws -> [UInt8] {
        let length = i2d_X509(x509, nil)
        guard length > 0 else { throw BenchError("i2d_X509 failed") }
        var der = [UInt8](repeating: 0, count: Int(length))
        der.withUnsafeMutableBufferPointer { buffer in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            _ = i2d_X509(x509, &cursor)
        }
        return der
    }

    static func recordFields(_ x509: OpaquePointer) throws -> (der: [UInt8], serial: String, notAfter: Date) {
        let der = try der(x509)
        X509_check_purpose(x509, -1, 0)
        guard X509_get_extension_flags(x509) & UInt32(EXFLAG_INVALID) == 0 else { throw BenchError("bad extensions") }
        _ = X509_self_signed(x509, 1)
        var serial = ""
        if let bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509), nil) {
            if let hex = BN_bn2hex(bn) {
                serial = String(cString: hex).lowercased()
                CRYPTO_free(hex, #file, #line)
            }
            BN_free(bn)
        }
        for name in [X509_get_subject_name(x509), X509_get_issuer_name(x509)] {
            for index in 0..<X509_NAME_entry_count(name) {
                guard let entry = X509_NAME_get_entry(name, index) else { continue }
                var out: UnsafeMutablePointer<UInt8>?
                let n = ASN1_STRING_to_UTF8(&out, X509_NAME_ENTRY_get_data(entry))
                if n >= 0, let out { CRYPTO_free(out, #file, #line) }
                _ = OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry)))
            }
        }
        var parts = tm()
        ASN1_TIME_to_tm(X509_get0_notBefore(x509), &parts)
        ASN1_TIME_to_tm(X509_get0_notAfter(x509), &parts)
        let notAfter = Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
        if let raw = X509_get_ext_d2i(x509, NID_subject_alt_name, nil, nil) { GENERAL_NAMES_free(OpaquePointer(raw)) }
        if let raw = X509_get_ext_d2i(x509, NID_basic_constraints, nil, nil) {
            BASIC_CONSTRAINTS_free(raw.assumingMemoryBound(to: BASIC_CONSTRAINTS.self))
        }
        if let raw = X509_get_ext_d2i(x509, NID_ext_key_usage, nil, nil) { EXTENDED_KEY_USAGE_free(OpaquePointer(raw)) }
        for nid in [NID_name_constraints, NID_crl_distribution_points, NID_info_access, NID_info_access] {
            _ = X509_get_ext_d2i(x509, nid, nil, nil)  // absent in these leaves: nothing to free
        }
        _ = X509_get0_subject_key_id(x509)
        _ = X509_get0_authority_key_id(x509)
        return (der, serial, notAfter)
    }
}

/// Which proposal tiers a prototype run models: always A, optionally C (`--prototype A|AC`).
struct PrototypeTiers: Sendable, Equatable, CustomStringConvertible {
    var fieldsFromBuilder = false

    init?(_ text: String) {
        switch text.uppercased() {
        case "A": fieldsFromBuilder = false
        case "AC": fieldsFromBuilder = true
        default: return nil
        }
    }

    var description: String { "A" + (fieldsFromBuilder ? "C" : "") }
}

/// CertificateAuthority.issue(_:now:) for the `service` profile with the proposed changes, from the same inputs
/// to the same store: subject keys converted once per key (LegacyPublicKey), the leaf built exactly as
/// CertificateBuilder does, its Certificate fields read without re-encoding the key, the self-check against a
/// store built once (IssuerSelfCheck), one ISO 8601 formatter per call, and the same group-commit insert.
final class PrototypeIssuer: Sendable {
    let authority: CertificateAuthority
    let issuerKey: OpenSSLBox
    let issuer: OpenSSLBox
    let selfCheck: IssuerSelfCheck
    let profile: CertificateProfile
    let legacyKeys: [PublicKey: LegacyPublicKey]
    let extensions: ProfileExtensions
    let tiers: PrototypeTiers
    let signer: SigningContext?

    init(authority: CertificateAuthority, keys: [PublicKey], tiers: PrototypeTiers = PrototypeTiers("A")!) throws {
        self.tiers = tiers
        self.authority = authority
        issuerKey = try RawOpenSSL.privateKey(pemFile: authority.directory.intermediateKey)
        issuer = try RawOpenSSL.x509(der: authority.intermediate.der)
        selfCheck = try IssuerSelfCheck(root: authority.root, intermediate: authority.intermediate)
        profile = try authority.profile(named: "service")
        legacyKeys = Dictionary(uniqueKeysWithValues: try keys.map { ($0, try LegacyPublicKey($0)) })
        let template = LeafTemplate(
            organization: authority.configuration.name,
            spiffeID: "spiffe://\(authority.configuration.trustDomain)/template",
            subjectKey: legacyKeys[keys[0]]!, notBefore: Date(), notAfter: Date().addingTimeInterval(3600))
        let leaf = try FastLeafSigner.sign(template, issuer: issuer.pointer, issuerKey: issuerKey.pointer)
        extensions = try withExtendedLifetime(leaf) { try ProfileExtensions(from: leaf.pointer) }
        signer = tiers.fieldsFromBuilder ? try SigningContext(issuerKey: issuerKey.pointer) : nil
    }

    var mode: String { "prototype-\(tiers)" }

    func issue(_ requests: [IssuanceRequest], now: Date) throws -> [CertificateRecord] {
        let formatter = tiers.fieldsFromBuilder ? nil : ISO8601DateFormatter()
        var records: [CertificateRecord] = []
        var events: [AuditEvent] = []
        records.reserveCapacity(requests.count)
        for request in requests {
            guard case .publicKey(let publicKey) = request.keySource, let key = legacyKeys[publicKey],
                let text = request.spiffeID
            else { throw BenchError("the prototype only handles pre-registered public keys with a SPIFFE ID") }
            let id = try SPIFFEID(text)
            guard id.isMember(of: authority.configuration.trustDomain) else { throw BenchError("outside trust domain") }
            let lifetime = profile.defaultLifetime
            let jitter = Double.random(in: 0...(profile.expiryJitter * lifetime))
            let template = LeafTemplate(
                organization: authority.configuration.name, spiffeID: id.description, subjectKey: key,
                notBefore: now.addingTimeInterval(-CertificateAuthority.backdating),
                notAfter: min(now.addingTimeInterval(lifetime - jitter), authority.intermediate.notAfter))
            let leaf = try FastLeafSigner.sign(
                template, issuer: issuer.pointer, issuerKey: issuerKey.pointer, prepared: extensions, signer: signer)
            let fields = try leaf.with { x509 in
                // Tier C: serial and validity are the builder's own values; only the DER is read back.
                let fields =
                    tiers.fieldsFromBuilder
                    ? (
                        der: try FastLeafSigner.der(x509), serial: template.serial.hexString,
                        notAfter: Date(timeIntervalSince1970: template.notAfter.timeIntervalSince1970.rounded(.down))
                    )
                    : try FastLeafSigner.recordFields(x509)
                if let failure = selfCheck.check(leaf: x509, time: now, purpose: X509_PURPOSE_SSL_CLIENT) {
                    throw BenchError("the certificate would not verify: \(failure)")
                }
                return fields
            }
            let record = CertificateRecord(
                serial: fields.serial, profile: profile.name, subject: "O=\(authority.configuration.name)",
                spiffeID: id.description, subjectAlternativeNames: ["URI:\(id.description)"],
                notBefore: template.notBefore, notAfter: fields.notAfter, issuedAt: now,
                fingerprintSHA256: Digest.sha256(fields.der).hexString, der: Data(fields.der))
            records.append(record)
            events.append(
                AuditEvent(
                    time: now, action: "certificate.issue", actor: authority.actor, serial: record.serial,
                    details: [
                        "profile": record.profile, "subject": record.subject,
                        "names": record.subjectAlternativeNames.joined(separator: ","),
                        "notAfter": formatter?.string(from: record.notAfter) ?? iso8601UTC(record.notAfter),
                    ]))
        }
        try authority.store.insert(records, audit: events)
        return records
    }
}
