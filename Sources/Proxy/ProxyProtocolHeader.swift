import NetCore

/// A PROXY protocol version 2 header (haproxy's spec): the client's address as the proxy saw it, and TLVs carrying
/// the verified identity, so a target behind an L4 proxy still knows who connected.
///
/// TLVs: PP2_TYPE_SSL (0x20) with the "client connected over SSL" and "client sent a certificate" bits, the
/// verified flag 0, and the sub-TLVs PP2_SUBTYPE_SSL_VERSION (0x21), PP2_SUBTYPE_SSL_CN (0x22) and
/// PP2_SUBTYPE_SSL_CIPHER (0x23); and a custom TLV 0xE0 with the SPIFFE ID (or other identity string) in UTF-8.
public struct ProxyProtocolHeader: Sendable {
    public static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// The custom TLV type carrying the verified identity.
    public static let identityType: UInt8 = 0xE0

    public var source: SocketAddress?
    public var destination: SocketAddress?
    public var identity: String?
    public var commonName: String?
    public var tlsVersion: String?
    public var cipher: String?
    public var clientCertificatePresented: Bool

    public init(
        source: SocketAddress?, destination: SocketAddress?, identity: String?, commonName: String?,
        tlsVersion: String?, cipher: String?, clientCertificatePresented: Bool
    ) {
        self.source = source
        self.destination = destination
        self.identity = identity
        self.commonName = commonName
        self.tlsVersion = tlsVersion
        self.cipher = cipher
        self.clientCertificatePresented = clientCertificatePresented
    }

    /// The encoded header.
    public var bytes: [UInt8] {
        var addresses: [UInt8] = []
        var family: UInt8 = 0x00  // UNSPEC
        if let source, let destination, let s = source.addressBytes, let d = destination.addressBytes,
            s.count == d.count
        {
            family = s.count == 4 ? 0x11 : 0x21  // TCP over IPv4 / IPv6
            addresses = s + d + bigEndian(UInt16(source.port ?? 0)) + bigEndian(UInt16(destination.port ?? 0))
        }
        var ssl: [UInt8] = [0x01 | (clientCertificatePresented ? 0x02 | 0x04 : 0)]  // client: SSL, CERT_CONN, CERT_SESS
        ssl += [0, 0, 0, 0]  // verify: 0 = verified
        if let tlsVersion { ssl += tlv(0x21, Array(tlsVersion.utf8)) }
        if let commonName { ssl += tlv(0x22, Array(commonName.utf8)) }
        if let cipher { ssl += tlv(0x23, Array(cipher.utf8)) }
        var tlvs = tlv(0x20, ssl)
        if let identity { tlvs += tlv(ProxyProtocolHeader.identityType, Array(identity.utf8)) }
        let body = addresses + tlvs
        return ProxyProtocolHeader.signature + [0x21, family] + bigEndian(UInt16(clamping: body.count)) + body
    }

    private func tlv(_ type: UInt8, _ value: [UInt8]) -> [UInt8] {
        [type] + bigEndian(UInt16(clamping: value.count)) + value.prefix(Int(UInt16.max))
    }

    private func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
}
