import Foundation
import HTTP1
import TLS
import X509

/// What the identity headers say about one verified client: computed once per connection (the peer does not
/// change), so each request only copies fields and, with a signer, signs a token.
struct PeerCertificateFacts: Sendable {
    /// The log name: SPIFFE ID, `dns:…`, `cn:…`.
    let identity: String
    let spiffeID: String?
    /// base64url SHA-256 of the leaf's DER (`x5t#S256`).
    let thumbprint: String
    /// The proxy's XFCC element for this client.
    let xfccElement: String
    /// RFC 9440 and simple headers.
    let fields: [HTTPField]
}

/// Rewrites each request head for the backend: hop-by-hop fields and every inbound identity header out, the
/// proxy's identity headers in (docs/http.md). One per credentials snapshot.
struct IdentityHeaders: Sendable {
    let options: HTTPProxyOptions
    /// The proxy certificate's URI SAN (XFCC `By`).
    let proxyURI: String?
    let signer: IdentitySigner?
    private let strippedNames: Set<String>

    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]
    /// Fields a `Connection` header may not make the proxy drop: the framing and the Host are the proxy's business.
    static let protected: Set<String> = ["host", "content-length", "transfer-encoding"]

    init(options: HTTPProxyOptions, proxyURI: String?, signer: IdentitySigner?) {
        self.options = options
        self.proxyURI = proxyURI
        self.signer = signer
        strippedNames =
            IdentityHeaders.hopByHop.union(options.forwardsInboundIdentityHeaders ? [] : options.identityHeaderNames)
    }

    /// The facts about an authenticated peer; nil for an unauthenticated one.
    func facts(for peer: PeerIdentity) -> PeerCertificateFacts? {
        guard let leaf = peer.leaf else { return nil }
        let hash = leaf.fingerprintSHA256
        // The chain the client was verified through, without the trust anchor.
        let presented = peer.chain.count > 1 ? Array(peer.chain.dropLast()) : peer.chain
        var element = ""
        if let proxyURI { element += "By=\(IdentityHeaders.xfccValue(proxyURI));" }
        element += "Hash=" + hash.hexString
        let details = options.xfccDetails
        if details.contains(.cert) { element += ";Cert=\"\(IdentityHeaders.urlEncoded(leaf.pemEncoded))\"" }
        if details.contains(.chain) {
            element += ";Chain=\"\(IdentityHeaders.urlEncoded(presented.map(\.pemEncoded).joined()))\""
        }
        if details.contains(.subject) {
            element += ";Subject=\(IdentityHeaders.xfccValue(leaf.subject.description, quote: true))"
        }
        for name in leaf.subjectAlternativeNames {
            switch name {
            case .uri(let uri) where details.contains(.uri): element += ";URI=\(IdentityHeaders.xfccValue(uri))"
            case .dns(let dns) where details.contains(.dns): element += ";DNS=\(IdentityHeaders.xfccValue(dns))"
            default: break
            }
        }
        var fields: [HTTPField] = []
        if options.clientCertHeaders {
            fields.append(HTTPField("Client-Cert", ":\(Data(leaf.der).base64EncodedString()):"))
            let intermediates = presented.dropFirst()
            if !intermediates.isEmpty {
                fields.append(
                    HTTPField(
                        "Client-Cert-Chain",
                        intermediates.map { ":\(Data($0.der).base64EncodedString()):" }.joined(separator: ", ")))
            }
        }
        if let header = options.identityHeader, let spiffeID = peer.spiffeID {
            fields.append(HTTPField(header, spiffeID.description))
        }
        return PeerCertificateFacts(
            identity: peer.description, spiffeID: peer.spiffeID?.description, thumbprint: JSONText.base64URL(hash),
            xfccElement: element, fields: fields)
    }

    /// The head the backend gets. `upgrade` keeps the request's `Upgrade` (and says so in `Connection`).
    func rewrite(
        _ head: HTTPRequestHead, peer: PeerCertificateFacts?, upgrade: String?, connectionTokens: [String]? = nil
    ) throws -> HTTPRequestHead {
        var names = strippedNames
        for token in connectionTokens ?? HTTPSyntax.connectionTokens(head.headers)
        where !IdentityHeaders.protected.contains(token) {
            names.insert(token)
        }
        var headers = head.headers.removing(names)
        if let upgrade {
            headers.append(HTTPField("Connection", "Upgrade"))
            headers.append(HTTPField("Upgrade", upgrade))
        }
        // x-forwarded-client-cert, by mode (inbound copies are still in `headers` only when the mode keeps them).
        let inbound = headers.values("x-forwarded-client-cert")
        let keepsInbound = options.xfcc == .alwaysForwardOnly || (options.xfcc.keepsInbound && peer != nil)
        if !keepsInbound, !inbound.isEmpty { headers = headers.removing(["x-forwarded-client-cert"]) }
        if let peer, options.xfcc.adds {
            if options.xfcc == .appendForward, !inbound.isEmpty {
                headers = headers.removing(["x-forwarded-client-cert"])
                headers.append(
                    HTTPField("x-forwarded-client-cert", (inbound + [peer.xfccElement]).joined(separator: ", ")))
            } else {
                headers.append(HTTPField("x-forwarded-client-cert", peer.xfccElement))
            }
        }
        if let peer {
            headers += peer.fields
            if let signer {
                headers.append(
                    HTTPField(
                        options.signedIdentityHeader,
                        try signer.token(peer: peer, method: head.method, target: head.target)))
            }
        }
        var rewritten = head
        rewritten.headers = headers
        return rewritten
    }

    /// An XFCC value, double-quoted when it holds `,` `;` `=` or `"` (or when `quote`), with `"` escaped.
    static func xfccValue(_ value: String, quote: Bool = false) -> String {
        guard quote || value.contains(where: { ",;=\"".contains($0) }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            + "\""
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters (Envoy's encoding of `Cert` and `Chain`).
    static func urlEncoded(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count * 3 / 2)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
