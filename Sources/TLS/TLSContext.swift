internal import CGnuTLS
import Foundation
import X509

/// A TLS configuration made ready to serve: GnuTLS credentials (our chain and key, the CA names a server asks
/// for), the protocol priorities, the session ticket key, and the `PeerVerifier` that makes every trust decision.
///
/// Expensive to build, cheap to use: build one per configuration and share it by every connection on every
/// thread. To reload credentials, trust or CRLs, build a new context (passing the old `ticketKey` so resumption
/// survives) and use it for new connections; open connections keep theirs.
public final class TLSContext: @unchecked Sendable {
    // @unchecked: every stored property is set in init and never mutated; GnuTLS documents credentials and
    // priority caches as safe to share between sessions on different threads once set up.
    public let configuration: TLSConfiguration
    public let peerVerifier: PeerVerifier
    public let ticketKey: SessionTicketKey
    let authorizer: PeerAuthorizer?
    let credentials: gnutls_certificate_credentials_t
    let priority: gnutls_priority_t

    /// Builds the context. `authorizer`, when given, is asked about every verified peer on every handshake
    /// (resumed ones too); a denial fails the handshake.
    public init(
        configuration: TLSConfiguration, authorizer: PeerAuthorizer? = nil, ticketKey: SessionTicketKey? = nil
    ) throws {
        self.configuration = configuration
        self.authorizer = authorizer
        self.ticketKey = try ticketKey ?? SessionTicketKey()
        self.peerVerifier = PeerVerifier(
            trustBundle: configuration.trustBundle,
            purpose: configuration.role == .server ? .client : .server,
            requiredNames: configuration.expectedServerNames, crls: configuration.crls,
            acceptsStaleCRLs: configuration.acceptsStaleCRLs,
            cacheCapacity: configuration.verifiedChainCacheCapacity)

        guard !configuration.trustBundle.filter(\.isSelfSigned).isEmpty else {
            throw TLSError(
                .invalidConfiguration,
                "the trust bundle holds no root (self-signed) certificate; give the CA's root.pem as the bundle")
        }

        var credentials: gnutls_certificate_credentials_t?
        try TLSContext.check(gnutls_certificate_allocate_credentials(&credentials), "allocating credentials")
        guard let credentials else { throw TLSError(.other, "GnuTLS could not allocate credentials") }
        self.credentials = credentials

        var priority: gnutls_priority_t?
        // X25519 first: GnuTLS's NORMAL lists P-256 first, and a GnuTLS client then makes the handshake's key
        // exchange on P-256, whose arithmetic in nettle costs more (~13 % of a handshake pair measured here).
        // The server keeps following the client's order (no %SERVER_PRECEDENCE), so no client is sent a
        // HelloRetryRequest for a group it did not offer a share for.
        let groups =
            "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:+GROUP-X448"
            + ":+GROUP-FFDHE2048:+GROUP-FFDHE3072"
        let versions =
            configuration.minimumVersion == .tls13 ? "-VERS-ALL:+VERS-TLS1.3" : "-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
        let priorities = "NORMAL:\(versions):\(groups)"
        let status = gnutls_priority_init(&priority, priorities, nil)
        guard status >= 0, let priority else {
            gnutls_certificate_free_credentials(credentials)
            throw TLSError(.other, "GnuTLS rejected the priority string \(priorities)")
        }
        self.priority = priority

        if configuration.role == .server, configuration.certificateChain.isEmpty {
            throw TLSError(.invalidConfiguration, "a TLS server needs a certificate chain and its private key")
        }
        if let leaf = configuration.certificateChain.first {
            guard let key = configuration.privateKey else {
                throw TLSError(.invalidConfiguration, "a certificate was given without its private key")
            }
            if configuration.skipsKeyMatchCheckForTesting {
                gnutls_certificate_set_flags(credentials, UInt32(GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH.rawValue))
            }
            guard key.matches(leaf.publicKey) || configuration.skipsKeyMatchCheckForTesting else {
                throw TLSError(
                    .invalidConfiguration,
                    "the private key does not belong to the certificate \(leaf.subject); give the key it was issued for"
                )
            }
            let chainPEM = configuration.certificateChain.map(\.pemEncoded).joined()
            let keyPEM = try key.pemEncoded()
            try TLSContext.withDatum(chainPEM) { chain in
                try TLSContext.withDatum(keyPEM) { key in
                    try TLSContext.check(
                        gnutls_certificate_set_x509_key_mem2(credentials, &chain, &key, GNUTLS_X509_FMT_PEM, nil, 0),
                        "loading our certificate and key")
                }
            }
        }
        if configuration.role == .server, configuration.clientAuthentication != .none {
            // Only for the CA names in the CertificateRequest: GnuTLS itself verifies nothing (no
            // gnutls_session_set_verify_cert); the verify callback below makes the decision.
            let bundlePEM = configuration.trustBundle.map(\.pemEncoded).joined()
            try TLSContext.withDatum(bundlePEM) { bundle in
                try TLSContext.check(
                    gnutls_certificate_set_x509_trust_mem(credentials, &bundle, GNUTLS_X509_FMT_PEM),
                    "loading the trust bundle's CA names")
            }
        }
        gnutls_certificate_set_verify_function(credentials, tlsVerifyPeerCallback)
    }

    deinit {
        gnutls_certificate_free_credentials(credentials)
        gnutls_priority_deinit(priority)
    }

    static func check(_ result: Int32, _ operation: String) throws {
        guard result < 0 else { return }
        throw TLSError(
            .invalidConfiguration, "\(operation) failed: \(String(cString: gnutls_strerror(result)))",
            libraryError: String(cString: gnutls_strerror_name(result)))
    }

    static func withDatum<T>(_ text: String, _ body: (inout gnutls_datum_t) throws -> T) rethrows -> T {
        var bytes = Array(text.utf8)
        return try bytes.withUnsafeMutableBufferPointer { buffer in
            var datum = gnutls_datum_t(data: buffer.baseAddress, size: UInt32(buffer.count))
            return try body(&datum)
        }
    }
}

/// GnuTLS's certificate-verify hook: hands the decision to the connection the session belongs to.
private let tlsVerifyPeerCallback: @convention(c) (gnutls_session_t?) -> Int32 = { session in
    guard let session, let raw = gnutls_session_get_ptr(session) else { return GNUTLS_E_CERTIFICATE_ERROR }
    let connection = Unmanaged<TLSConnection>.fromOpaque(raw).takeUnretainedValue()
    return connection.admitPeer() ? 0 : GNUTLS_E_CERTIFICATE_ERROR
}
