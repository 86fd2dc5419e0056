internal import CGnuTLS
import Foundation
import X509

/// One TLS connection as a state machine over bytes: the caller feeds it what arrived from the network
/// (`receive`), drives it (`handshake`, `read`, `write`, `close`), and it hands back the bytes to send through the
/// `output` closure given at creation. It never touches a socket, so it runs on any event loop and in tests with
/// two connections wired to each other in memory.
///
/// Not thread-safe: use a connection from one thread (its event loop) only.
public final class TLSConnection {
    /// What `handshake()` achieved.
    public enum HandshakeStatus {
        /// The handshake finished, the peer is admitted (verified, not revoked, authorized).
        case complete
        /// More bytes from the peer are needed: call `receive` then `handshake` again.
        case wantInput
        /// The handshake failed; any alert is already in the output. Close the transport.
        case failed(TLSError)
    }

    /// What `read` found.
    public enum ReadStatus {
        /// Some plaintext was handed to the closure; call `read` again.
        case data
        /// No complete record is buffered: wait for bytes.
        case wantInput
        /// The peer closed the TLS session cleanly (close_notify).
        case closed
        /// The record layer failed. Close the transport.
        case failed(TLSError)
    }

    public let context: TLSContext
    let session: gnutls_session_t
    let output: (UnsafeRawBufferPointer) -> Void
    private var inbound: [UInt8] = []
    private var inboundOffset = 0
    private var transportEOF = false

    /// The admitted peer, once the handshake completed (or the verify step passed).
    public private(set) var peer: PeerIdentity?
    /// The authorizer's detail for the admitted peer (the rule that allowed it), if any.
    public private(set) var authorizationDetail: String?
    /// Why the peer was refused, when it was refused by our verifier or policy.
    public private(set) var rejection: TLSError?
    public private(set) var isHandshakeComplete = false
    /// The leaf a refused peer presented (kept only on refusal, for the log).
    private var presentedLeaf: [UInt8]?
    /// The alert that tells a refused peer why, in TLS's words (unknown CA, expired, revoked, …).
    private var refusalAlert = GNUTLS_A_BAD_CERTIFICATE

    /// How a refused peer's certificate names it (SPIFFE ID, DNS name or CN), for logs; nil when it sent none.
    public var presentedLeafDescription: String? {
        if let peer, peer.isAuthenticated { return peer.description }
        guard let presentedLeaf, let leaf = try? Certificate(der: presentedLeaf) else { return nil }
        return PeerIdentity(chain: [leaf]).description
    }

    /// Creates a connection for `context`'s role. `output` receives every byte to send to the peer, in order;
    /// it must accept them all (queue what the socket does not take now).
    public init(context: TLSContext, output: @escaping (UnsafeRawBufferPointer) -> Void) throws {
        self.context = context
        self.output = output
        var session: gnutls_session_t?
        let flags =
            UInt32(context.configuration.role == .server ? GNUTLS_SERVER : GNUTLS_CLIENT)
            | UInt32(GNUTLS_NONBLOCK) | UInt32(GNUTLS_NO_SIGNAL)
        try TLSContext.check(gnutls_init(&session, flags), "creating a TLS session")
        guard let session else { throw TLSError(.other, "GnuTLS could not create a session") }
        self.session = session
        try TLSContext.check(gnutls_priority_set(session, context.priority), "setting priorities")
        try TLSContext.check(
            gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, UnsafeMutableRawPointer(context.credentials)),
            "setting credentials")
        let me = Unmanaged.passUnretained(self).toOpaque()
        gnutls_session_set_ptr(session, me)
        gnutls_transport_set_ptr(session, me)
        gnutls_transport_set_push_function(session, tlsPush)
        gnutls_transport_set_pull_function(session, tlsPull)
        switch context.configuration.role {
        case .server:
            let request: gnutls_certificate_request_t
            switch context.configuration.clientAuthentication {
            case .require: request = GNUTLS_CERT_REQUIRE
            case .request: request = GNUTLS_CERT_REQUEST
            default: request = GNUTLS_CERT_IGNORE
            }
            gnutls_certificate_server_set_request(session, request)
            try TLSContext.check(
                gnutls_session_ticket_enable_server(session, &context.ticketKey.datum), "enabling session tickets")
        case .client:
            if let name = context.configuration.serverName {
                _ = name.withCString { gnutls_server_name_set(session, GNUTLS_NAME_DNS, $0, strlen($0)) }
            }
        }
    }

    deinit { gnutls_deinit(session) }

    // MARK: Transport

    /// Bytes that arrived from the peer.
    public func receive(_ bytes: UnsafeRawBufferPointer) {
        if inboundOffset == inbound.count {
            inbound.removeAll(keepingCapacity: true)
            inboundOffset = 0
        }
        inbound.append(contentsOf: bytes)
    }

    /// The peer closed its side of the transport: once buffered bytes are used up, reads report the end.
    public func receiveEOF() { transportEOF = true }

    /// Bytes received but not yet consumed by the TLS layer.
    public var bufferedInputCount: Int { inbound.count - inboundOffset }

    fileprivate func pull(_ destination: UnsafeMutableRawPointer, _ count: Int) -> Int {
        let available = inbound.count - inboundOffset
        guard available > 0 else {
            if transportEOF { return 0 }
            gnutls_transport_set_errno(session, EAGAIN)
            return -1
        }
        let taken = min(available, count)
        inbound.withUnsafeBytes { source in
            destination.copyMemory(from: source.baseAddress! + inboundOffset, byteCount: taken)
        }
        inboundOffset += taken
        if inboundOffset == inbound.count {
            // Idle connections keep no buffer (memory per connection is a benchmarked number).
            inbound = []
            inboundOffset = 0
        }
        return taken
    }

    fileprivate func push(_ source: UnsafeRawPointer, _ count: Int) -> Int {
        output(UnsafeRawBufferPointer(start: source, count: count))
        return count
    }

    // MARK: Handshake

    /// Advances the handshake with the bytes received so far.
    public func handshake() -> HandshakeStatus {
        if isHandshakeComplete { return .complete }
        while true {
            let result = gnutls_handshake(session)
            if result == GNUTLS_E_SUCCESS { break }
            if result == GNUTLS_E_AGAIN || result == GNUTLS_E_INTERRUPTED {
                if bufferedInputCount > 0 { continue }
                return .wantInput
            }
            if gnutls_error_is_fatal(result) == 0 { continue }
            return .failed(handshakeError(result))
        }
        // Resumed sessions skip the certificate exchange and so the verify callback; requested-but-absent client
        // certificates skip it too. Admission is decided for every connection all the same.
        if peer == nil, !admitPeer() {
            _ = gnutls_alert_send(session, GNUTLS_AL_FATAL, GNUTLS_A_ACCESS_DENIED)
            return .failed(rejection ?? TLSError(.peerCertificateRejected, "the peer was refused"))
        }
        isHandshakeComplete = true
        return .complete
    }

    private func handshakeError(_ result: Int32) -> TLSError {
        let name = String(cString: gnutls_strerror_name(result))
        if let rejection {
            // The alert says why in TLS's own terms: access_denied for a policy refusal (the certificate is fine),
            // unknown_ca, certificate_expired, certificate_revoked … for a certificate problem.
            switch rejection.code {
            case .peerNotAuthorized: _ = gnutls_alert_send(session, GNUTLS_AL_FATAL, GNUTLS_A_ACCESS_DENIED)
            case .peerCertificateRejected: _ = gnutls_alert_send(session, GNUTLS_AL_FATAL, refusalAlert)
            default: _ = gnutls_alert_send_appropriate(session, result)
            }
            return rejection
        }
        switch result {
        case GNUTLS_E_NO_CERTIFICATE_FOUND, GNUTLS_E_CERTIFICATE_REQUIRED:
            _ = gnutls_alert_send_appropriate(session, result)
            return TLSError(
                .peerCertificateMissing,
                context.configuration.role == .server
                    ? "the client presented no certificate; this server requires one issued by its trust bundle"
                    : "the server presented no certificate", libraryError: name)
        case GNUTLS_E_PREMATURE_TERMINATION, GNUTLS_E_PULL_ERROR, GNUTLS_E_PUSH_ERROR:
            return TLSError(.prematureClose, "the peer closed the connection during the handshake", libraryError: name)
        case GNUTLS_E_NO_CIPHER_SUITES, GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
            _ = gnutls_alert_send_appropriate(session, result)
            let hint =
                context.configuration.minimumVersion == .tls13
                ? " (TLS 1.3 is required; a peer that offers only TLS 1.2 needs --min-tls 1.2 on this side)" : ""
            return TLSError(
                .handshakeFailed,
                "TLS handshake failed: no protocol version or cipher suite in common with the peer\(hint)",
                libraryError: name)
        case GNUTLS_E_WARNING_ALERT_RECEIVED, GNUTLS_E_FATAL_ALERT_RECEIVED:
            let alert = String(cString: gnutls_alert_get_name(gnutls_alert_get(session)))
            return TLSError(.alertReceived, "the peer sent the alert \"\(alert)\"", libraryError: name)
        default:
            _ = gnutls_alert_send_appropriate(session, result)
            return TLSError(
                .handshakeFailed, "TLS handshake failed: \(String(cString: gnutls_strerror(result)))",
                libraryError: name)
        }
    }

    /// The one admission decision: chain (cached) → revocation → authorization. Called from the verify callback
    /// during the handshake, and after it when the callback did not run (resumed session, no certificate).
    func admitPeer() -> Bool {
        var count: UInt32 = 0
        let list = gnutls_certificate_get_peers(session, &count)
        let configuration = context.configuration
        let identity: PeerIdentity
        if count == 0 || list == nil {
            let optional = configuration.role == .server && configuration.clientAuthentication != .require
            guard optional else {
                rejection = TLSError(
                    .peerCertificateMissing,
                    configuration.role == .server
                        ? "the client presented no certificate; this server requires one issued by its trust bundle"
                        : "the server presented no certificate")
                return false
            }
            identity = .unauthenticated
        } else {
            let leafDatum = list![0]
            let leafDER = Array(UnsafeRawBufferPointer(start: leafDatum.data, count: Int(leafDatum.size)))
            // A returning peer: its leaf alone finds the verified chain; the rest is not even copied.
            let now = Date()
            if let hit = context.peerVerifier.cachedIdentity(leaf: leafDER, at: now) {
                identity = hit
            } else {
                var chain: [[UInt8]] = [leafDER]
                chain.reserveCapacity(Int(count))
                for index in 1..<Int(count) {
                    let datum = list![index]
                    chain.append(Array(UnsafeRawBufferPointer(start: datum.data, count: Int(datum.size))))
                }
                switch context.peerVerifier.verifyUncached(presented: chain, at: now) {
                case .failure(let failure):
                    presentedLeaf = leafDER
                    refusalAlert = TLSConnection.alert(for: failure.code)
                    rejection = TLSError(.peerCertificateRejected, "certificate rejected: \(failure)")
                    return false
                case .success(let verified):
                    identity = verified
                }
            }
        }
        if let authorizer = context.authorizer {
            let verdict = authorizer(identity)
            guard verdict.isAllowed else {
                rejection = TLSError(.peerNotAuthorized, "not authorized: \(verdict.detail)")
                presentedLeaf = identity.leaf?.der
                return false
            }
            authorizationDetail = verdict.detail
        } else if !identity.isAuthenticated, configuration.role == .server,
            configuration.clientAuthentication == .request
        {
            authorizationDetail = "unauthenticated (request mode)"
        }
        peer = identity
        return true
    }

    /// The TLS alert for a verification failure.
    static func alert(for code: VerificationFailure.Code) -> gnutls_alert_description_t {
        switch code {
        case .unknownIssuer: return GNUTLS_A_UNKNOWN_CA
        case .expired, .notYetValid: return GNUTLS_A_CERTIFICATE_EXPIRED
        case .revoked: return GNUTLS_A_CERTIFICATE_REVOKED
        case .wrongPurpose: return GNUTLS_A_UNSUPPORTED_CERTIFICATE
        default: return GNUTLS_A_BAD_CERTIFICATE
        }
    }

    /// What the handshake negotiated.
    public var sessionInfo: TLSSessionInfo {
        let version = gnutls_protocol_get_name(gnutls_protocol_get_version(session)).map { String(cString: $0) }
        let cipher = gnutls_cipher_get_name(gnutls_cipher_get(session)).map { String(cString: $0) }
        let group = gnutls_group_get_name(gnutls_group_get(session)).map { String(cString: $0) }
        return TLSSessionInfo(
            protocolVersion: version ?? "unknown", cipher: cipher ?? "unknown", group: group ?? "unknown",
            resumed: gnutls_session_is_resumed(session) != 0)
    }

    // MARK: Records

    /// Decrypts the next buffered record, handing its plaintext to `body` (valid only during the call).
    public func read(_ body: (UnsafeRawBufferPointer) -> Void) -> ReadStatus {
        while true {
            var packet: gnutls_packet_t?
            let result = gnutls_record_recv_packet(session, &packet)
            if result > 0, let packet {
                var datum = gnutls_datum_t()
                gnutls_packet_get(packet, &datum, nil)
                body(UnsafeRawBufferPointer(start: datum.data, count: Int(datum.size)))
                gnutls_packet_deinit(packet)
                return .data
            }
            if let packet { gnutls_packet_deinit(packet) }
            if result == 0 { return .closed }
            if result == GNUTLS_E_AGAIN || result == GNUTLS_E_INTERRUPTED {
                // GnuTLS also answers AGAIN after consuming a post-handshake message (a session ticket) while more
                // bytes are buffered: only an empty buffer means waiting for the network.
                if bufferedInputCount > 0 { continue }
                return .wantInput
            }
            if result == GNUTLS_E_PREMATURE_TERMINATION {
                return .failed(TLSError(.prematureClose, "the peer closed the connection without close_notify"))
            }
            // Post-handshake messages (new session tickets, key updates) and warnings: keep reading.
            let code = Int32(truncatingIfNeeded: result)
            if gnutls_error_is_fatal(code) == 0 { continue }
            return .failed(
                TLSError(
                    .recordFailed, "TLS record error: \(String(cString: gnutls_strerror(code)))",
                    libraryError: String(cString: gnutls_strerror_name(code))))
        }
    }

    /// The most plaintext one TLS record carries.
    static let recordPayloadSize = 16 * 1024

    /// Whether GnuTLS holds decrypted bytes not yet read.
    public var hasBufferedPlaintext: Bool { gnutls_record_check_pending(session) > 0 }

    /// Encrypts `bytes`; the records go to `output` — in one piece when `bytes` spans several records, so a large
    /// write costs one send, not one per 16 KiB record.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        let corked = bytes.count > TLSConnection.recordPayloadSize
        if corked { gnutls_record_cork(session) }
        defer {
            if corked { _ = gnutls_record_uncork(session, 0) }
        }
        var offset = 0
        while offset < bytes.count {
            let result = gnutls_record_send(session, bytes.baseAddress! + offset, bytes.count - offset)
            if result > 0 {
                offset += result
                continue
            }
            if result == GNUTLS_E_AGAIN || result == GNUTLS_E_INTERRUPTED { continue }
            throw TLSError(
                .recordFailed, "TLS write failed: \(String(cString: gnutls_strerror(Int32(result))))",
                libraryError: String(cString: gnutls_strerror_name(Int32(result))))
        }
    }

    /// Client: the session state to resume from later (TLS 1.3 tickets arrive after the handshake, so ask after
    /// some data was read). nil when there is nothing to resume.
    public func exportSession() -> [UInt8]? {
        var size = 0
        // Asking with no buffer answers GNUTLS_E_SHORT_MEMORY_BUFFER and the size needed.
        let probe = gnutls_session_get_data(session, nil, &size)
        guard probe >= 0 || probe == GNUTLS_E_SHORT_MEMORY_BUFFER, size > 0 else { return nil }
        var data = [UInt8](repeating: 0, count: size)
        let result = data.withUnsafeMutableBytes { gnutls_session_get_data(session, $0.baseAddress, &size) }
        guard result >= 0 else { return nil }
        return Array(data.prefix(size))
    }

    /// Client: offers `data` (from `exportSession`) for resumption. Call before the first `handshake()`.
    public func resumeSession(_ data: [UInt8]) throws {
        try data.withUnsafeBytes { bytes in
            try TLSContext.check(
                gnutls_session_set_data(session, bytes.baseAddress, bytes.count), "setting resumption data")
        }
    }

    /// Sends close_notify (our side is done); does not wait for the peer's.
    public func close() { _ = gnutls_bye(session, GNUTLS_SHUT_WR) }

    /// Sends a fatal access_denied alert, for a peer refused after the handshake (e.g. revoked while connected).
    public func refuse() { _ = gnutls_alert_send(session, GNUTLS_AL_FATAL, GNUTLS_A_ACCESS_DENIED) }
}

private let tlsPush: @convention(c) (gnutls_transport_ptr_t?, UnsafeRawPointer?, Int) -> Int = { pointer, data, count in
    guard let pointer, let data else { return 0 }
    return Unmanaged<TLSConnection>.fromOpaque(pointer).takeUnretainedValue().push(data, count)
}

private let tlsPull: @convention(c) (gnutls_transport_ptr_t?, UnsafeMutableRawPointer?, Int) -> Int = {
    pointer, data, count in
    guard let pointer, let data else { return -1 }
    return Unmanaged<TLSConnection>.fromOpaque(pointer).takeUnretainedValue().pull(data, count)
}
