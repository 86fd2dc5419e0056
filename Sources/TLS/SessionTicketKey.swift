internal import CGnuTLS

/// The secret that encrypts TLS session tickets. Keep one across context rebuilds (reloads) so clients can still
/// resume; a new key invalidates every outstanding ticket.
public final class SessionTicketKey: @unchecked Sendable {
    // @unchecked: the datum is written once in init and only read (by GnuTLS, which copies it) afterwards.
    var datum = gnutls_datum_t()
    /// GnuTLS 3.7's ticket master key size (what gnutls_session_ticket_key_generate makes).
    static let size = 64

    /// Generates a fresh random key with GnuTLS's key-grade generator.
    public init() throws {
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: SessionTicketKey.size)
        datum = gnutls_datum_t(data: bytes, size: UInt32(SessionTicketKey.size))
        let result = gnutls_rnd(GNUTLS_RND_KEY, bytes, SessionTicketKey.size)
        guard result >= 0 else {
            throw TLSError(
                .other, "cannot generate a session ticket key: \(String(cString: gnutls_strerror(result)))",
                libraryError: String(cString: gnutls_strerror_name(result)))
        }
    }

    deinit {
        if let data = datum.data {
            gnutls_memset(data, 0, Int(datum.size))
            data.deallocate()
        }
    }
}
