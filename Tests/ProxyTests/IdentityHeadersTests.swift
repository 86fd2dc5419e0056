import Foundation
import HTTP1
import TLS
import TestSupport
import Testing
import X509

@testable import Proxy

@Suite("identity headers: what the backend is told about the client")
struct IdentityHeadersTests {
    let pki: FixturePKI
    let leaf: Certificate
    let peer: PeerIdentity

    init() throws {
        pki = try FixturePKI()
        leaf = try pki.leaf(
            names: [.uri("spiffe://acme.internal/ns/shop/web"), .dns("web.acme.internal")], commonName: "web, \"shop\""
        ).0
        peer = PeerIdentity(chain: [leaf, pki.intermediate, pki.root])
    }

    func request(_ extra: String = "") throws -> HTTPRequestHead {
        var parser = HTTPRequestParser()
        var head: HTTPRequestHead?
        let text = "GET /orders?id=7 HTTP/1.1\r\nHost: api\r\n\(extra)\r\n"
        try Array(text.utf8).withUnsafeBytes { bytes in
            _ = try parser.parse(bytes) { if case .head(let parsed) = $0 { head = parsed } }
        }
        return try #require(head)
    }

    func rewrite(
        _ options: HTTPProxyOptions = HTTPProxyOptions(), extra: String = "", authenticated: Bool = true,
        signer: IdentitySigner? = nil
    ) throws -> HTTPRequestHead {
        let headers = IdentityHeaders(options: options, proxyURI: "spiffe://acme.internal/proxy", signer: signer)
        let facts = authenticated ? headers.facts(for: peer) : nil
        return try headers.rewrite(try request(extra), peer: facts, upgrade: nil)
    }

    /// The subject is RFC 4514 (`CN=web\, \"shop\"`), then quoted for XFCC with `\` and `"` escaped again.
    @Test("XFCC: By, Hash (hex SHA-256 of the DER), quoted Subject, URI and DNS, Envoy's order and quoting")
    func xfccElement() throws {
        let head = try rewrite()
        let hash = Digest.sha256(leaf.der).map { String(format: "%02x", $0) }.joined()
        #expect(
            head.values("x-forwarded-client-cert") == [
                "By=spiffe://acme.internal/proxy;Hash=\(hash);" + #"Subject="CN=web\\, \\\"shop\\\"";"#
                    + "URI=spiffe://acme.internal/ns/shop/web;DNS=web.acme.internal"
            ])
    }

    @Test("Cert and Chain are URL-encoded PEM, leaf and intermediates (never the root)")
    func xfccCertAndChain() throws {
        var options = HTTPProxyOptions()
        options.xfccDetails = [.cert, .chain]
        let value = try #require(try rewrite(options).values("x-forwarded-client-cert").first)
        let cert = try #require(value.split(separator: ";").first { $0.hasPrefix("Cert=") })
        #expect(cert.dropFirst(6).dropLast().removingPercentEncoding == leaf.pemEncoded)
        let chain = try #require(value.split(separator: ";").first { $0.hasPrefix("Chain=") })
        #expect(chain.dropFirst(7).dropLast().removingPercentEncoding == leaf.pemEncoded + pki.intermediate.pemEncoded)
        #expect(!value.contains("Subject="))
    }

    @Test("RFC 9440: Client-Cert is the leaf's DER, Client-Cert-Chain the intermediates, as sf-binary")
    func clientCert() throws {
        let head = try rewrite()
        #expect(head.values("client-cert") == [":\(Data(leaf.der).base64EncodedString()):"])
        #expect(head.values("client-cert-chain") == [":\(Data(pki.intermediate.der).base64EncodedString()):"])
        #expect(head.values("x-client-spiffe-id") == ["spiffe://acme.internal/ns/shop/web"])
    }

    static let forged =
        "X-Forwarded-Client-Cert: By=x;Hash=forged\r\nCLIENT-CERT: :Zm9yZ2Vk:\r\nclient-cert-chain: :Zm9yZ2Vk:\r\n"
        + "x-client-spiffe-id: spiffe://acme.internal/ns/admin\r\nX-Symbolon-Identity: forged\r\n"

    @Test("every inbound identity header is removed, whatever its case, before the proxy adds its own")
    func forgedRemoved() throws {
        let head = try rewrite(extra: IdentityHeadersTests.forged)
        #expect(head.values("x-forwarded-client-cert").count == 1)
        #expect(head.values("x-forwarded-client-cert").first?.contains("forged") == false)
        #expect(head.values("client-cert").count == 1 && head.values("client-cert-chain").count == 1)
        #expect(head.values("x-client-spiffe-id") == ["spiffe://acme.internal/ns/shop/web"])
        #expect(head.values("x-symbolon-identity") == [])
        let anonymous = try rewrite(extra: IdentityHeadersTests.forged, authenticated: false)
        #expect(anonymous.headers.map(\.lowercasedName) == ["host"])
    }

    @Test("XFCC modes", arguments: HTTPProxyOptions.XFCCMode.allCases)
    func xfccModes(mode: HTTPProxyOptions.XFCCMode) throws {
        var options = HTTPProxyOptions()
        options.xfcc = mode
        let values = try rewrite(options, extra: "x-forwarded-client-cert: Hash=upstream\r\n").values(
            "x-forwarded-client-cert")
        let anonymous = try rewrite(options, extra: "x-forwarded-client-cert: Hash=upstream\r\n", authenticated: false)
            .values("x-forwarded-client-cert")
        switch mode {
        case .sanitize:
            #expect(values == [] && anonymous == [])
        case .forwardOnly:
            #expect(values == ["Hash=upstream"] && anonymous == [])
        case .appendForward:
            #expect(values.count == 1 && values[0].hasPrefix("Hash=upstream, By=spiffe://acme.internal/proxy;Hash="))
            #expect(anonymous == [])
        case .sanitizeSet:
            #expect(values.count == 1 && values[0].hasPrefix("By=") && anonymous == [])
        case .alwaysForwardOnly:
            #expect(values == ["Hash=upstream"] && anonymous == ["Hash=upstream"])
        }
    }

    @Test("hop-by-hop fields and those named in Connection go; Host and framing stay whatever Connection says")
    func hopByHop() throws {
        let head = try rewrite(
            extra: "Connection: keep-alive, X-Private, host, content-length\r\nKeep-Alive: 5\r\nX-Private: 1\r\n"
                + "TE: trailers\r\nContent-Length: 0\r\nX-Kept: yes\r\n")
        let names = head.headers.map(\.lowercasedName)
        #expect(names.contains("host") && names.contains("content-length") && names.contains("x-kept"))
        for gone in ["connection", "keep-alive", "x-private", "te"] { #expect(!names.contains(gone), "\(gone)") }
    }

    @Test("the unsafe flag keeps what the client sent, and is the only way to")
    func unsafeForwarding() throws {
        var options = HTTPProxyOptions()
        options.forwardsInboundIdentityHeaders = true
        options.xfcc = .sanitize
        let head = try rewrite(options, extra: IdentityHeadersTests.forged)
        #expect(head.values("client-cert").contains(":Zm9yZ2Vk:"))
        #expect(head.values("x-client-spiffe-id").contains("spiffe://acme.internal/ns/admin"))
        #expect(!options.warnings.isEmpty)
    }

    @Test(
        "the signed token verifies with the proxy's public key, binds the request, and breaks when touched",
        arguments: [KeyAlgorithm.ecdsaP256, .ecdsaP384, .ed25519])
    func signedToken(algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        let signer = try IdentitySigner(key: key, ttl: .seconds(60))
        let token = try #require(try rewrite(signer: signer).values("x-symbolon-identity").first)
        let parts = token.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        let input = Array("\(parts[0]).\(parts[1])".utf8)
        let signature = try #require(Self.base64URLDecode(parts[2]))
        #expect(key.publicKey.verifyJOSESignature(signature, message: input))
        var tampered = input
        tampered[tampered.count - 2] ^= 0x01
        #expect(!key.publicKey.verifyJOSESignature(signature, message: tampered))
        let other = try PrivateKey.generate(algorithm)
        #expect(!other.publicKey.verifyJOSESignature(signature, message: input))

        let headerBytes = try #require(Self.base64URLDecode(parts[0]))
        let header = try JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any]
        #expect(header?["alg"] as? String == key.joseAlgorithm)
        let claimBytes = try #require(Self.base64URLDecode(parts[1]))
        let claims = try JSONSerialization.jsonObject(with: Data(claimBytes)) as? [String: Any]
        #expect(claims?["sub"] as? String == "spiffe://acme.internal/ns/shop/web")
        #expect(claims?["htm"] as? String == "GET" && claims?["htu"] as? String == "/orders?id=7")
        let thumbprint = (claims?["cnf"] as? [String: Any])?["x5t#S256"] as? String
        #expect(thumbprint.flatMap(Self.base64URLDecode) == Digest.sha256(leaf.der))
        let issued = try #require(claims?["iat"] as? Int)
        #expect(claims?["exp"] as? Int == issued + 60)
    }

    @Test("an RSA key cannot sign identity tokens, and says which keys can")
    func rsaRefused() throws {
        let key = try PrivateKey.generate(try KeyAlgorithm.rsa(bits: 2048))
        #expect(throws: ProxyError.self) { try IdentitySigner(key: key, ttl: .seconds(60)) }
    }

    static func base64URLDecode(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
