internal import COpenSSL
internal import CShims
import Foundation

extension ChainVerifier {
    /// A non-nil marker stored in the verification context's ex_data slot 0 when stale CRLs are accepted.
    nonisolated(unsafe) static let staleCRLsAccepted = UnsafeMutableRawPointer(bitPattern: 1)

    func verifyPath(leaf: Certificate, intermediates: [Certificate], policy: VerificationPolicy)
        -> Result<[Certificate], VerificationFailure>
    {
        guard let store = self.store?.pointer else { return .failure(.init(.other, "out of memory")) }
        guard let untrusted = OPENSSL_sk_new_null() else { return .failure(.init(.other, "out of memory")) }
        defer { symbolon_sk_X509_pop_free(untrusted) }
        for certificate in intermediates {
            X509_up_ref(certificate.handle.pointer)
            OPENSSL_sk_push(untrusted, UnsafeRawPointer(certificate.handle.pointer))
        }
        guard let crls = OPENSSL_sk_new_null() else { return .failure(.init(.other, "out of memory")) }
        defer { symbolon_sk_X509_CRL_pop_free(crls) }
        for crl in policy.crls ?? [] {
            X509_CRL_up_ref(crl.handle.pointer)
            OPENSSL_sk_push(crls, UnsafeRawPointer(crl.handle.pointer))
        }

        guard let context = X509_STORE_CTX_new() else { return .failure(.init(.other, "out of memory")) }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, leaf.handle.pointer, untrusted) == 1 else {
            return .failure(
                .init(.other, "cannot set up verification: \(OpenSSLErrorQueue.drain().joined(separator: "; "))"))
        }
        let parameters = X509_STORE_CTX_get0_param(context)
        X509_VERIFY_PARAM_set_time(parameters, time_t(policy.time.timeIntervalSince1970.rounded(.down)))
        var flags: UInt = 0
        if policy.strict { flags |= UInt(X509_V_FLAG_X509_STRICT) }
        if anchoredUntil != nil { flags |= UInt(X509_V_FLAG_PARTIAL_CHAIN) }
        if policy.crls != nil {
            // Anchored at an already verified intermediate, only the leaf is left to check: the intermediate's own
            // revocation was checked (against the root's CRL) when the anchor was made.
            flags |= UInt(X509_V_FLAG_CRL_CHECK)
            if anchoredUntil == nil { flags |= UInt(X509_V_FLAG_CRL_CHECK_ALL) }
            X509_STORE_CTX_set0_crls(context, crls)
            if policy.acceptsStaleCRLs { X509_STORE_CTX_set_ex_data(context, 0, ChainVerifier.staleCRLsAccepted) }
        }
        X509_VERIFY_PARAM_set_flags(parameters, flags)
        if let maximum = policy.maximumIntermediates {
            X509_VERIFY_PARAM_set_depth(parameters, Int32(clamping: max(0, maximum)))
        }
        if policy.purpose == .client { X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_CLIENT) }
        if policy.purpose == .server { X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_SERVER) }
        // A trust anchor is trusted by configuration, not by a CRL: OpenSSL's CRL_CHECK_ALL would also demand a CRL
        // covering the root itself, which is no check at all (the root would sign its own clearance).
        X509_STORE_CTX_set_verify_cb(context) { ok, context in
            guard ok == 0, let context else { return ok }
            let error = X509_STORE_CTX_get_error(context)
            let depth = X509_STORE_CTX_get_error_depth(context)
            let chainLength = OpenSSLSupport.count(X509_STORE_CTX_get0_chain(context))
            if error == X509_V_ERR_UNABLE_TO_GET_CRL, Int(depth) == chainLength - 1,
                let top = X509_STORE_CTX_get_current_cert(context), X509_self_signed(top, 0) == 1
            {
                X509_STORE_CTX_set_error(context, X509_V_OK)
                return 1
            }
            // Configured leniency: a CRL past its nextUpdate still revokes what it lists, and is accepted.
            if error == X509_V_ERR_CRL_HAS_EXPIRED, X509_STORE_CTX_get_ex_data(context, 0) != nil {
                X509_STORE_CTX_set_error(context, X509_V_OK)
                return 1
            }
            return 0
        }

        let accepted = X509_verify_cert(context) == 1
        _ = OpenSSLErrorQueue.drain()
        guard accepted else {
            let error = X509_STORE_CTX_get_error(context)
            let depth = Int(X509_STORE_CTX_get_error_depth(context))
            let current = X509_STORE_CTX_get_current_cert(context).flatMap { x509 -> Certificate? in
                X509_up_ref(x509)
                return try? Certificate(owning: x509)
            }
            return .failure(
                ChainVerifier.failure(openSSLError: error, depth: depth, certificate: current, policy: policy))
        }
        // Hand back the caller's own values: re-wrapping each X509 would re-parse it (and re-verify a root's
        // self-signature) on every call.
        let known = [leaf] + intermediates + anchors
        var chain: [Certificate] = []
        if let built = X509_STORE_CTX_get0_chain(context) {
            for index in 0..<OpenSSLSupport.count(built) {
                guard let x509 = OpenSSLSupport.element(built, index) else { continue }
                if let mine = known.first(where: { $0.handle.pointer == x509 }) {
                    chain.append(mine)
                } else {
                    X509_up_ref(x509)
                    if let certificate = try? Certificate(owning: x509) { chain.append(certificate) }
                }
            }
        }
        return .success(chain)
    }

    /// A trust store holding `anchors`, or nil when OpenSSL is out of memory.
    static func makeStore(_ anchors: [Certificate]) -> OpenSSLObject? {
        guard let store = X509_STORE_new() else { return nil }
        for anchor in anchors { X509_STORE_add_cert(store, anchor.handle.pointer) }
        return OpenSSLObject(store) { X509_STORE_free($0) }
    }

    func leafCarries(_ leaf: Certificate, _ name: SubjectAlternativeName) -> Bool {
        let x509 = leaf.handle.pointer
        defer { _ = OpenSSLErrorQueue.drain() }
        switch name {
        case .dns(let host):
            return X509_check_host(x509, host, host.utf8.count, UInt32(X509_CHECK_FLAG_NEVER_CHECK_SUBJECT), nil) == 1
        case .ipAddress(let address): return X509_check_ip_asc(x509, address, 0) == 1
        case .email(let address):
            return X509_check_email(x509, address, address.utf8.count, UInt32(X509_CHECK_FLAG_NEVER_CHECK_SUBJECT)) == 1
        case .uri(let uri): return leaf.subjectAlternativeNames.contains(.uri(uri))
        case .other: return false
        }
    }

    static func failure(openSSLError error: Int32, depth: Int, certificate: Certificate?, policy: VerificationPolicy)
        -> VerificationFailure
    {
        let which = depth == 0 ? "the leaf" : "the certificate at depth \(depth)"
        let identity = certificate.map { $0.spiffeID?.description ?? $0.subject.description }
        let named = identity.map { "\(which) (\($0))" } ?? which
        let text = X509_verify_cert_error_string(Int(error)).map { String(cString: $0) } ?? "error \(error)"
        let code: VerificationFailure.Code
        var reason = "\(named): \(text)"
        switch error {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            code = .expired
            reason = "\(named) expired (checked at \(ISO8601DateFormatter().string(from: policy.time)))"
        case X509_V_ERR_CERT_NOT_YET_VALID:
            code = .notYetValid
            reason = "\(named) is not valid yet (checked at \(ISO8601DateFormatter().string(from: policy.time)))"
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
            X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
            X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            code = .unknownIssuer
            reason =
                "\(named): \(text); it does not chain to a trusted root (wrong CA bundle, or a missing intermediate?)"
        case X509_V_ERR_CERT_SIGNATURE_FAILURE, X509_V_ERR_CRL_SIGNATURE_FAILURE,
            X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
            code = .badSignature
        case X509_V_ERR_INVALID_PURPOSE:
            code = .wrongPurpose
            reason =
                "\(named) is not allowed for TLS \(policy.purpose?.description ?? "use") (key usage / extended key usage)"
        case X509_V_ERR_PERMITTED_VIOLATION, X509_V_ERR_EXCLUDED_VIOLATION, X509_V_ERR_SUBTREE_MINMAX,
            X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE, X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX,
            X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
            code = .nameConstraintViolation
            reason = "\(named): \(text): a name is outside what its issuing CA is allowed to certify"
        case X509_V_ERR_PATH_LENGTH_EXCEEDED, X509_V_ERR_CERT_CHAIN_TOO_LONG:
            code = .pathLengthExceeded
        case X509_V_ERR_CERT_REVOKED:
            code = .revoked
            reason = "\(named) is revoked"
        case X509_V_ERR_UNABLE_TO_GET_CRL, X509_V_ERR_CRL_HAS_EXPIRED, X509_V_ERR_CRL_NOT_YET_VALID,
            X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER, X509_V_ERR_DIFFERENT_CRL_SCOPE, X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
            code = .revocationUnknown
            reason = "\(named): \(text); revocation cannot be decided, so the chain is refused (fail closed)"
        case X509_V_ERR_INVALID_CA, X509_V_ERR_KEYUSAGE_NO_CERTSIGN, X509_V_ERR_INVALID_NON_CA:
            code = .notACA
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_EMAIL_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            code = .nameMismatch
        default:
            code = strictErrors.contains(error) ? .invalidCertificate : .other
        }
        return VerificationFailure(code, reason, depth: depth)
    }

    static let strictErrors: Set<Int32> = [
        X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER, X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER,
        X509_V_ERR_EMPTY_SUBJECT_ALT_NAME, X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL,
        X509_V_ERR_CA_BCONS_NOT_CRITICAL, X509_V_ERR_CA_CERT_MISSING_KEY_USAGE,
        X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3, X509_V_ERR_ISSUER_NAME_EMPTY, X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH,
        X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL, X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL,
        X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA, X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN,
        X509_V_ERR_INVALID_EXTENSION, X509_V_ERR_EC_KEY_EXPLICIT_PARAMS, X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD,
        X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD, X509_V_ERR_UNNESTED_RESOURCE,
        X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA,
    ]
}
