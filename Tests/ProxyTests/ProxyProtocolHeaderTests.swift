import NetCore
import Proxy
import Testing

@Suite("PROXY protocol v2 header")
struct ProxyProtocolHeaderTests {
    @Test("an IPv4 header carries the signature, PROXY command, TCP4 addresses and ports, SSL and identity TLVs")
    func ipv4() throws {
        let header = ProxyProtocolHeader(
            source: try SocketAddress.parse("10.1.2.3:5555"), destination: try SocketAddress.parse("127.0.0.1:8443"),
            identity: "spiffe://acme.internal/a", commonName: "a", tlsVersion: "TLS1.3", cipher: "AES-128-GCM",
            clientCertificatePresented: true)
        let bytes = header.bytes
        #expect(Array(bytes.prefix(12)) == ProxyProtocolHeader.signature)
        #expect(bytes[12] == 0x21)  // version 2, PROXY
        #expect(bytes[13] == 0x11)  // TCP over IPv4
        let length = Int(bytes[14]) << 8 | Int(bytes[15])
        #expect(bytes.count == 16 + length)
        #expect(Array(bytes[16..<20]) == [10, 1, 2, 3])
        #expect(Array(bytes[20..<24]) == [127, 0, 0, 1])
        #expect(Array(bytes[24..<26]) == [0x15, 0xB3])  // 5555
        #expect(Array(bytes[26..<28]) == [0x20, 0xFB])  // 8443
        // TLVs follow: SSL (0x20) then identity (0xE0).
        var offset = 28
        var found: [UInt8: [UInt8]] = [:]
        while offset + 3 <= bytes.count {
            let type = bytes[offset]
            let size = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            found[type] = Array(bytes[(offset + 3)..<(offset + 3 + size)])
            offset += 3 + size
        }
        #expect(offset == bytes.count)
        #expect(found[0xE0].map { String(decoding: $0, as: UTF8.self) } == "spiffe://acme.internal/a")
        let ssl = try #require(found[0x20])
        #expect(ssl[0] == 0x07)  // SSL, certificate on the connection and in the session
        #expect(Array(ssl[1..<5]) == [0, 0, 0, 0])  // verified
    }

    @Test("a unix-socket client yields the UNSPEC family and no address block")
    func unspecified() throws {
        let header = ProxyProtocolHeader(
            source: try SocketAddress.parse("unix:/tmp/x.sock"), destination: nil, identity: nil, commonName: nil,
            tlsVersion: nil, cipher: nil, clientCertificatePresented: false)
        let bytes = header.bytes
        #expect(bytes[13] == 0x00)
        #expect(bytes[16] == 0x20)  // straight to the SSL TLV
    }

    @Test("an IPv6 header uses family 0x21 and 16-byte addresses")
    func ipv6() throws {
        let header = ProxyProtocolHeader(
            source: try SocketAddress.parse("[::1]:1000"), destination: try SocketAddress.parse("[::1]:2000"),
            identity: nil, commonName: nil, tlsVersion: nil, cipher: nil, clientCertificatePresented: false)
        let bytes = header.bytes
        #expect(bytes[13] == 0x21)
        #expect(Array(bytes[16..<32]) == Array(repeating: 0, count: 15) + [1])
    }
}
