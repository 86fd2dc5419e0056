import Foundation
import TestSupport
import Testing

/// What the backend must see for a verified client: the proxy's identity headers, computed here from the client's
/// certificate with openssl, never from the proxy's own code.
struct ExpectedIdentity {
    let der: [UInt8]
    let hashHex: String
    let subject: String
    let intermediates: [[UInt8]]
    let spiffeID: String?

    init(_ leaf: IssuedLeaf, spiffeID: String?) throws {
        der = CertFacts.der(leaf.cert)
        hashHex = try CertFacts.sha256Hex(ofCertificate: leaf.cert)
        subject = try CertFacts.subjectRFC2253(leaf.cert)
        intermediates = Array(CertFacts.ders(leaf.cert).dropFirst())
        self.spiffeID = spiffeID
    }

    /// The XFCC element with the default details (subject, uri, dns), in the field order docs/http.md gives.
    func xfcc(by: String? = ProxyPKI.serverID, dns: [String] = []) -> String {
        ((by.map { ["By=" + $0] } ?? []) + ["Hash=" + hashHex, "Subject=" + quoted(subject)]
            + (spiffeID.map { ["URI=" + $0] } ?? []) + dns.map { "DNS=" + $0 }).joined(separator: ";")
    }

    /// An RFC 9110 quoted-string: `\` and `"` escaped with a backslash.
    func quoted(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    var clientCert: String { ":" + Data(der).base64EncodedString() + ":" }
    var clientCertChain: String {
        intermediates.map { ":" + Data($0).base64EncodedString() + ":" }.joined(separator: ", ")
    }
}

/// An RFC 2253 string with every `\X` pair replaced by X (hex pairs are not used for ASCII).
func rfc2253Unescaped(_ text: String) -> String {
    var result = ""
    var escaped = false
    for character in text {
        if !escaped, character == "\\" {
            escaped = true
            continue
        }
        escaped = false
        result.append(character)
    }
    return result
}

/// Headers a client sends to impersonate someone: every identity header, in mixed case, some of them twice.
let forgedIdentityHeaders = [
    "x-forwarded-client-cert: By=spiffe://evil/forged;Hash=0000;URI=spiffe://acme.internal/ns/admin/root",
    "X-Forwarded-Client-Cert: Hash=1111;URI=spiffe://acme.internal/ns/admin/forged",
    "client-cert: :Zm9yZ2VkLWNlcnQ=:",
    "Client-Cert: :Zm9yZ2VkLWFnYWlu:",
    "CLIENT-CERT-CHAIN: :Zm9yZ2VkLWNoYWlu:",
    "x-client-spiffe-id: spiffe://acme.internal/ns/admin/forged",
    "X-Client-Spiffe-Id: spiffe://acme.internal/ns/admin/forged-again",
    "x-symbolon-identity: eyJhbGciOiJub25lIn0.eyJzdWIiOiJmb3JnZWQifQ.",
    "X-SYMBOLON-IDENTITY: forged-token",
    "X-Harmless: kept as sent",
]

/// Every forged value above, to prove none arrived.
let forgedMarkers = ["forged", "evil", "0000", "1111", "Zm9yZ2Vk", "eyJhbGciOiJub25lIn0"]

extension ProxyEndToEndTests {
    @Suite("proxy --mode http: identity headers (XFCC, RFC 9440 Client-Cert, SPIFFE ID) and what clients forge")
    struct HTTPProxyIdentity {
        /// Checks that `headers` hold exactly the proxy's identity headers for `expected`, and nothing forged.
        static func checkIdentity(
            _ headers: HeaderList, _ expected: ExpectedIdentity, by: String? = ProxyPKI.serverID, dns: [String] = [],
            _ context: String, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            let xfcc = headers.values("x-forwarded-client-cert")
            #expect(
                xfcc == [expected.xfcc(by: by, dns: dns)], "\(context): XFCC\n\(headers)",
                sourceLocation: sourceLocation)
            let fields = xfccFields(xfcc.first ?? "")
            #expect(
                fields.first { $0.key == "Hash" }?.value.lowercased() == expected.hashHex,
                "\(context): XFCC Hash must be the SHA-256 of the client's DER (\(expected.hashHex))",
                sourceLocation: sourceLocation)
            #expect(
                fields.first { $0.key == "URI" }?.value == expected.spiffeID, "\(context): XFCC URI",
                sourceLocation: sourceLocation)
            #expect(
                fields.first { $0.key == "Subject" }?.value == expected.subject, "\(context): XFCC Subject",
                sourceLocation: sourceLocation)
            #expect(fields.first { $0.key == "By" }?.value == by, "\(context): XFCC By", sourceLocation: sourceLocation)

            let clientCert = headers.values("client-cert")
            #expect(clientCert.count == 1, "\(context): one Client-Cert\n\(headers)", sourceLocation: sourceLocation)
            if let value = clientCert.first {
                #expect(
                    value.hasPrefix(":") && value.hasSuffix(":") && value.count > 2, "\(context): \(value)",
                    sourceLocation: sourceLocation)
                let decoded = Data(base64Encoded: String(value.dropFirst().dropLast())).map { [UInt8]($0) }
                #expect(
                    decoded == expected.der, "\(context): Client-Cert must decode to exactly the client's DER",
                    sourceLocation: sourceLocation)
            }
            let chain = headers.values("client-cert-chain")
            #expect(
                chain == [expected.clientCertChain], "\(context): Client-Cert-Chain\n\(headers)",
                sourceLocation: sourceLocation)
            let decodedChain = (chain.first ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.map { Data(base64Encoded: String($0.dropFirst().dropLast())).map { [UInt8]($0) } ?? [] }
            #expect(
                decodedChain == expected.intermediates,
                "\(context): Client-Cert-Chain must hold the intermediate(s), leaf and root excluded",
                sourceLocation: sourceLocation)

            let spiffe = headers.values("x-client-spiffe-id")
            #expect(
                spiffe == (expected.spiffeID.map { [$0] } ?? []), "\(context): X-Client-SPIFFE-ID\n\(headers)",
                sourceLocation: sourceLocation)
            #expect(
                !headers.has("x-symbolon-identity"), "\(context): no signed header without --sign-identity",
                sourceLocation: sourceLocation)
            for marker in forgedMarkers {
                #expect(
                    !headers.fields.contains { $0.value.contains(marker) },
                    "\(context): a forged value (\(marker)) reached the backend\n\(headers)",
                    sourceLocation: sourceLocation)
            }
        }

        @Test(
            "curl --cert/--key/--cacert: the backend gets exactly the proxy's XFCC (By, Hash = SHA-256 of the client DER, Subject, URI), Client-Cert (= the DER), Client-Cert-Chain (the intermediate) and X-Client-SPIFFE-ID; every forged copy, in any case and repeated, is gone"
        )
        func curlIdentity() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let expected = try ExpectedIdentity(s.pki.client, spiffeID: ProxyPKI.clientID)
            let reply = try s.curl("/orders?id=7", forgedIdentityHeaders.flatMap { ["-H", $0] })
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            #expect(echo.method == "GET" && echo.target == "/orders?id=7", "\(echo)")
            Self.checkIdentity(echo.headers, expected, "curl")
            #expect(echo.headers.values("x-harmless") == ["kept as sent"], "\(echo.headers)")
        }

        @Test(
            "Python requests with a client certificate: the same identity headers, the forged ones gone")
        func requestsIdentity() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let expected = try ExpectedIdentity(s.pki.client, spiffeID: ProxyPKI.clientID)
            // requests keeps one value per name (case-insensitively): one forged copy of each.
            let forged = [
                "X-Forwarded-Client-Cert: By=spiffe://evil/forged;Hash=0000",
                "Client-Cert: :Zm9yZ2VkLWNlcnQ=:",
                "client-CERT-chain: :Zm9yZ2VkLWNoYWlu:",
                "X-CLIENT-SPIFFE-ID: spiffe://acme.internal/ns/admin/forged",
                "x-Symbolon-Identity: forged-token",
            ]
            let reply = try s.python("/orders?id=7", client: "requests", headers: forged)
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            Self.checkIdentity(echo.headers, expected, "requests")
        }

        @Test(
            "Python http.client with a client certificate, forged headers repeated with putheader: the same identity headers, the forged ones gone; a POST body arrives intact"
        )
        func httpClientIdentity() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let expected = try ExpectedIdentity(s.pki.client, spiffeID: ProxyPKI.clientID)
            let reply = try s.python(
                "/orders/7", client: "httpclient", method: "POST", headers: forgedIdentityHeaders,
                data: "{\"amount\": 7}")
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            #expect(echo.method == "POST" && echo.body == "{\"amount\": 7}", "\(echo)")
            Self.checkIdentity(echo.headers, expected, "http.client")
        }

        @Test(
            "A client with URI and DNS SANs and a subject that needs RFC 2253 escaping: Subject is quoted, one URI= and one DNS= per SAN, in order"
        )
        func subjectAndDNSNames() throws {
            let pki = try ProxyPKI.shared.get()
            let leaf = try ProxyPKI.forgeLeaf(
                pki.ca, subject: "/O=Acme, Inc./CN=svc",
                extensions: [
                    "subjectAltName=URI:spiffe://acme.internal/ns/payments/dns,DNS:a.localhost,DNS:b.localhost"
                ], as: "xfcc-dns-\(UUID().uuidString)")
            let expected = try ExpectedIdentity(leaf, spiffeID: "spiffe://acme.internal/ns/payments/dns")
            #expect(expected.subject.contains("\\,"), "openssl's RFC 2253 subject: \(expected.subject)")
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let reply = try s.curl("/", as: leaf)
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            Self.checkIdentity(echo.headers, expected, dns: ["a.localhost", "b.localhost"], "URI+DNS client")
        }

        @Test(
            "A subject crafted to inject XFCC fields (CN holding a quote, ';URI=…' and ',') stays inside the quoted Subject: one URI= field, the real one"
        )
        func subjectInjection() throws {
            let pki = try ProxyPKI.shared.get()
            let leaf = try ProxyPKI.forgeLeaf(
                pki.ca, subject: #"/CN=x";URI=urn:evil:root;By="evil, Hash=00"#,
                extensions: ["subjectAltName=URI:spiffe://acme.internal/ns/payments/crafted"],
                as: "xfcc-inject-\(UUID().uuidString)")
            let expected = try ExpectedIdentity(leaf, spiffeID: "spiffe://acme.internal/ns/payments/crafted")
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let reply = try s.curl("/", as: leaf)
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            let xfcc = echo.headers.values("x-forwarded-client-cert")
            try #require(xfcc.count == 1, "\(echo.headers)")
            let fields = xfccFields(xfcc[0])
            #expect(fields.map(\.key) == ["By", "Hash", "Subject", "URI"], "\(xfcc[0])")
            #expect(fields.filter { $0.key == "URI" }.map(\.value) == [expected.spiffeID ?? ""], "\(xfcc[0])")
            #expect(fields.first { $0.key == "By" }?.value == ProxyPKI.serverID, "\(xfcc[0])")
            // RFC 2253 lets a special character ('=' among them) be escaped or not: compare the unescaped text.
            let subject = fields.first { $0.key == "Subject" }?.value ?? ""
            #expect(
                rfc2253Unescaped(subject) == rfc2253Unescaped(expected.subject), "\(xfcc[0]) vs \(expected.subject)")
            #expect(rfc2253Unescaped(subject).contains(#"CN=x";URI=urn:evil:root;By="evil, Hash=00"#), "\(subject)")
            #expect(echo.headers.values("x-client-spiffe-id") == [expected.spiffeID ?? ""], "\(echo.headers)")
        }

        @Test(
            "A client without a SPIFFE ID (CN only): XFCC without URI=, no X-Client-SPIFFE-ID, and a forged one is still removed"
        )
        func clientWithoutSPIFFEID() throws {
            let pki = try ProxyPKI.shared.get()
            let alice = try pki.ca.issue("client", ["--cn", "alice"], as: "http-alice-\(UUID().uuidString)")
            let expected = try ExpectedIdentity(alice, spiffeID: nil)
            let s = try HTTPProxySetup.start(allow: ["--allow-cn", "alice"])
            defer { s.stop() }
            let reply = try s.curl("/", as: alice, forgedIdentityHeaders.flatMap { ["-H", $0] })
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            Self.checkIdentity(echo.headers, expected, "CN-only client")
            #expect(!(echo.headers.value("x-forwarded-client-cert") ?? "").contains("URI="), "\(echo.headers)")
        }

        @Test("A proxy certificate without a URI SAN: the XFCC element has no By= and starts with Hash=")
        func noBy() throws {
            let pki = try ProxyPKI.shared.get()
            let backend = try HTTPBackend()
            defer { backend.stop() }
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address, certificate: pki.serverOnly) + [
                    "--mode", "http", "--allow-spiffe-id", ProxyPKI.allowedPattern,
                ])
            defer { proxy.stop() }
            let expected = try ExpectedIdentity(pki.client, spiffeID: ProxyPKI.clientID)
            let reply = try HTTPClients.curl(
                "https://localhost:\(proxy.port)/", as: pki.client, ca: pki.ca.root, [])
            #expect(reply.status == 200, "\(reply)\n\(proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            Self.checkIdentity(echo.headers, expected, by: nil, "proxy without URI SAN")
            #expect(echo.headers.value("x-forwarded-client-cert")?.hasPrefix("Hash=") == true, "\(echo.headers)")
        }

        struct XFCCCase: Sendable, CustomTestStringConvertible {
            let mode: String
            /// What the backend gets from a verified client that sent `inbound`: nil = no XFCC; "inbound", "element",
            /// "inbound+element".
            let verified: String?
            /// What it gets from an unauthenticated client that sent `inbound`.
            let unauthenticated: String?
            let warns: Bool
            var testDescription: String { "--xfcc \(mode)" }
        }

        static let xfccCases: [XFCCCase] = [
            XFCCCase(mode: "sanitize", verified: nil, unauthenticated: nil, warns: false),
            XFCCCase(mode: "forward-only", verified: "inbound", unauthenticated: nil, warns: true),
            XFCCCase(mode: "append-forward", verified: "inbound+element", unauthenticated: nil, warns: true),
            XFCCCase(mode: "sanitize-set", verified: "element", unauthenticated: nil, warns: false),
            XFCCCase(mode: "always-forward-only", verified: "inbound", unauthenticated: "inbound", warns: true),
        ]

        @Test(
            "XFCC modes as in Envoy: sanitize, forward-only, append-forward, sanitize-set, always-forward-only — for a verified and an unauthenticated client; the forwarding modes warn at start-up",
            arguments: xfccCases)
        func xfccModes(_ testCase: XFCCCase) throws {
            let scratch = TemporaryDirectory("symbolon-e2e-http-xfcc")
            let policy = try scratch.write(
                "policy.json",
                #"{"allowUnauthenticated": true, "rules": [{"spiffeId": "spiffe://acme.internal/ns/payments/*"}]}"#)
            let s = try HTTPProxySetup.start(
                ["--xfcc", testCase.mode, "--client-auth", "request"], allow: ["--policy", policy])
            defer { s.stop() }
            let expected = try ExpectedIdentity(s.pki.client, spiffeID: ProxyPKI.clientID)
            let inbound = "By=spiffe://acme.internal/ns/edge;Hash=abcd;URI=spiffe://acme.internal/ns/web/frontend"
            let warning = s.proxy.log.first {
                $0.lowercased().contains("warn")
                    && ($0.contains(testCase.mode) || $0.lowercased().contains("xfcc")
                        || $0.lowercased().contains("x-forwarded-client-cert"))
            }
            #expect(
                (warning != nil) == testCase.warns,
                "\(testCase.mode): a start-up warning is expected: \(testCase.warns)\n\(s.proxy.logText)")

            for (who, credentials, outcome) in [
                ("verified", Optional(s.pki.client), testCase.verified),
                ("unauthenticated", nil, testCase.unauthenticated),
            ] {
                let reply = try HTTPClients.curl(
                    s.url("/"), as: credentials, ca: s.pki.ca.root,
                    ["-H", "X-Forwarded-Client-Cert: " + inbound, "-H", "Client-Cert: :Zm9yZ2Vk:"])
                #expect(reply.status == 200, "\(testCase.mode) \(who): \(reply)\n\(s.proxy.logText)")
                guard let echo = reply.echo else { continue }
                let xfcc = echo.headers.values("x-forwarded-client-cert").joined(separator: ", ")
                let wanted: String? =
                    switch outcome {
                    case "inbound": inbound
                    case "element": expected.xfcc()
                    case "inbound+element": inbound + ", " + expected.xfcc()
                    default: nil
                    }
                if let wanted {
                    #expect(xfcc == wanted, "\(testCase.mode) \(who)\n\(echo.headers)")
                } else {
                    #expect(!echo.headers.has("x-forwarded-client-cert"), "\(testCase.mode) \(who)\n\(echo.headers)")
                }
                #expect(!echo.headers.values("client-cert").contains(":Zm9yZ2Vk:"), "\(echo.headers)")
                if credentials == nil {
                    // No identity header for an unauthenticated client; the forged ones are still removed.
                    #expect(
                        !echo.headers.has("client-cert") && !echo.headers.has("client-cert-chain")
                            && !echo.headers.has("x-client-spiffe-id"), "\(echo.headers)")
                }
            }
        }

        @Test(
            "--xfcc-details cert,chain: By and Hash plus Cert (URL-decodes to the client's PEM) and Chain (the chain the client was verified through: leaf and intermediate, not the root); no Subject or URI"
        )
        func xfccCertAndChain() throws {
            let s = try HTTPProxySetup.start(["--xfcc-details", "cert,chain"])
            defer { s.stop() }
            let expected = try ExpectedIdentity(s.pki.client, spiffeID: ProxyPKI.clientID)
            let reply = try s.curl("/")
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            let xfcc = echo.headers.values("x-forwarded-client-cert")
            try #require(xfcc.count == 1, "\(echo.headers)")
            let fields = xfccFields(xfcc[0])
            #expect(Set(fields.map(\.key)) == ["By", "Hash", "Cert", "Chain"], "\(xfcc[0])")
            #expect(Array(fields.map(\.key).prefix(2)) == ["By", "Hash"], "\(xfcc[0])")
            #expect(xfcc[0].contains("Cert=\"") && xfcc[0].contains("Chain=\""), "always quoted: \(xfcc[0])")
            let cert = try #require(fields.first { $0.key == "Cert" }?.value)
            let certPEM = try #require(urlDecode(cert), "Cert is not URL-encoded: \(cert)")
            #expect(!cert.contains("\n") && !cert.contains(" "), "Cert must be URL-encoded: \(cert)")
            #expect(E2E.pemBlocks(certPEM).map(\.der) == [expected.der], "Cert decodes to: \(certPEM)")
            let chain = try #require(fields.first { $0.key == "Chain" }?.value)
            let chainPEM = try #require(urlDecode(chain), "Chain is not URL-encoded: \(chain)")
            #expect(
                E2E.pemBlocks(chainPEM).map(\.der) == CertFacts.ders(s.pki.client.cert),
                "Chain decodes to: \(chainPEM)")
        }

        @Test("--xfcc-details uri: only By, Hash and URI")
        func xfccDetailsURIOnly() throws {
            let s = try HTTPProxySetup.start(["--xfcc-details", "uri"])
            defer { s.stop() }
            let expected = try ExpectedIdentity(s.pki.client, spiffeID: ProxyPKI.clientID)
            let reply = try s.curl("/")
            let echo = try #require(reply.echo, "\(reply)\n\(s.proxy.logText)")
            #expect(
                echo.headers.values("x-forwarded-client-cert")
                    == ["By=\(ProxyPKI.serverID);Hash=\(expected.hashHex);URI=\(ProxyPKI.clientID)"], "\(echo.headers)")
        }

        @Test(
            "A client that also sends the root: Chain= and Client-Cert-Chain hold leaf+intermediate and the intermediate only, never the root"
        )
        func rootNeverInChain() throws {
            let pki = try ProxyPKI.shared.get()
            let scratch = TemporaryDirectory("symbolon-e2e-http-chain")
            let withRoot = IssuedLeaf(
                cert: try scratch.write("client-with-root.pem", E2E.read(pki.client.cert) + E2E.read(pki.ca.root)),
                key: pki.client.key, serial: pki.client.serial)
            try #require(CertFacts.ders(withRoot.cert).count == 3)
            let s = try HTTPProxySetup.start(["--xfcc-details", "subject,uri,cert,chain"])
            defer { s.stop() }
            let reply = try s.curl("/", as: withRoot)
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            let fields = xfccFields(echo.headers.value("x-forwarded-client-cert") ?? "")
            let chain = urlDecode(fields.first { $0.key == "Chain" }?.value ?? "") ?? ""
            #expect(
                E2E.pemBlocks(chain).map(\.der) == CertFacts.ders(pki.client.cert),
                "Chain must be leaf + intermediate: \(chain)")
            let expected = try ExpectedIdentity(pki.client, spiffeID: ProxyPKI.clientID)
            #expect(echo.headers.values("client-cert-chain") == [expected.clientCertChain], "\(echo.headers)")
        }

        @Test(
            "--no-client-cert-headers: no Client-Cert or Client-Cert-Chain (and forged ones are still removed); XFCC and the SPIFFE ID header stay"
        )
        func noClientCertHeaders() throws {
            let s = try HTTPProxySetup.start(["--no-client-cert-headers"])
            defer { s.stop() }
            let expected = try ExpectedIdentity(s.pki.client, spiffeID: ProxyPKI.clientID)
            let reply = try s.curl("/", forgedIdentityHeaders.flatMap { ["-H", $0] })
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            #expect(!echo.headers.has("client-cert") && !echo.headers.has("client-cert-chain"), "\(echo.headers)")
            #expect(echo.headers.values("x-forwarded-client-cert") == [expected.xfcc()], "\(echo.headers)")
            #expect(echo.headers.values("x-client-spiffe-id") == [ProxyPKI.clientID], "\(echo.headers)")
            for marker in forgedMarkers {
                #expect(!echo.headers.fields.contains { $0.value.contains(marker) }, "\(marker)\n\(echo.headers)")
            }
        }

        @Test(
            "--identity-header X-Peer: the SPIFFE ID arrives in X-Peer (a forged X-Peer is removed), not in X-Client-SPIFFE-ID"
        )
        func renamedIdentityHeader() throws {
            let s = try HTTPProxySetup.start(["--identity-header", "X-Peer"])
            defer { s.stop() }
            let reply = try s.curl(
                "/", ["-H", "x-peer: spiffe://acme.internal/ns/admin/forged", "-H", "X-PEER: forged-again"])
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            #expect(echo.headers.values("x-peer") == [ProxyPKI.clientID], "\(echo.headers)")
            #expect(!echo.headers.has("x-client-spiffe-id"), "\(echo.headers)")
        }

        @Test("--no-identity-header: no X-Client-SPIFFE-ID, and a forged one is still removed; XFCC stays")
        func noIdentityHeader() throws {
            let s = try HTTPProxySetup.start(["--no-identity-header"])
            defer { s.stop() }
            let expected = try ExpectedIdentity(s.pki.client, spiffeID: ProxyPKI.clientID)
            let reply = try s.curl(
                "/", ["-H", "X-Client-SPIFFE-ID: spiffe://acme.internal/ns/admin/forged"])
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            #expect(!echo.headers.has("x-client-spiffe-id"), "\(echo.headers)")
            #expect(echo.headers.values("x-forwarded-client-cert") == [expected.xfcc()], "\(echo.headers)")
        }

        @Test(
            "--unsafe-forward-inbound-identity-headers: a warning at start-up, and the client's own identity header reaches the backend"
        )
        func unsafeForwarding() throws {
            let s = try HTTPProxySetup.start(["--unsafe-forward-inbound-identity-headers"])
            defer { s.stop() }
            let warning = s.proxy.log.first {
                $0.lowercased().contains("warn")
                    && ($0.contains("unsafe-forward-inbound-identity-headers") || $0.lowercased().contains("identity"))
            }
            #expect(warning != nil, "a start-up warning is expected:\n\(s.proxy.logText)")
            let reply = try s.curl("/", ["-H", "X-Client-SPIFFE-ID: spiffe://acme.internal/ns/admin/forged"])
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            #expect(
                echo.headers.values("x-client-spiffe-id").contains("spiffe://acme.internal/ns/admin/forged"),
                "\(echo.headers)")
            // The safe default gives no warning.
            let safe = try HTTPProxySetup.start()
            defer { safe.stop() }
            #expect(
                !safe.proxy.log.contains { $0.lowercased().contains("warn") },
                "no warning by default:\n\(safe.proxy.logText)")
        }
    }

    @Suite("proxy --mode http: the signed identity header (--sign-identity), verified with PyJWT and the public key")
    struct HTTPProxySignedIdentity {
        /// The token the backend received in `header`, checked by `http_tools.py jwt` (PyJWT), original and tampered.
        static func check(
            _ token: String, publicKey: String, algorithm: String, _ extra: [String] = []
        ) throws -> [String: Any] {
            try HTTPTools.json(try HTTPTools.run(["jwt", token, publicKey, algorithm] + extra))
        }

        @Test(
            "P-256, P-384 and Ed25519 keys: the token verifies with the public key (ES256/ES384/EdDSA), kid = base64url SHA-256 of the SPKI, claims iss/sub/spiffe_id/cnf.x5t#S256/htm/htu/iat/exp/jti are right; any tampering fails verification",
            arguments: [("P-256", "ES256"), ("P-384", "ES384"), ("Ed25519", "EdDSA")])
        func signedToken(_ kind: String, _ algorithm: String) throws {
            let scratch = TemporaryDirectory("symbolon-e2e-http-jws")
            let (key, publicKey) = try CertFacts.signingKey(kind, in: scratch)
            let s = try HTTPProxySetup.start(["--sign-identity", key])
            defer { s.stop() }
            let x5t = try CertFacts.x5tS256(ofCertificate: s.pki.client.cert)
            let kid = try CertFacts.kid(ofKey: key)
            var jtis: [String] = []
            for (method, path, data) in [("GET", "/orders?id=7", nil), ("POST", "/refunds/7?x=1&y=2", "{}")] {
                let reply = try s.python(
                    path, client: "httpclient", method: method,
                    headers: ["X-Symbolon-Identity: forged-token", "x-symbolon-identity: forged-again"], data: data)
                #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
                let echo = try #require(reply.echo, "\(reply)")
                let tokens = echo.headers.values("x-symbolon-identity")
                try #require(tokens.count == 1, "one token, the proxy's:\n\(echo.headers)")
                let result = try Self.check(tokens[0], publicKey: publicKey, algorithm: algorithm)
                #expect(result["verified"] as? String == "ok", "\(kind): \(result)")
                let header = try #require(result["header"] as? [String: Any], "\(result)")
                #expect(header["alg"] as? String == algorithm && header["typ"] as? String == "JWT", "\(header)")
                #expect(header["kid"] as? String == kid, "kid must be \(kid): \(header)")
                let claims = try #require(result["claims"] as? [String: Any], "\(result)")
                #expect(claims["iss"] as? String == "symbolon-proxy", "\(claims)")
                #expect(claims["sub"] as? String == ProxyPKI.clientID, "\(claims)")
                #expect(claims["spiffe_id"] as? String == ProxyPKI.clientID, "\(claims)")
                #expect(
                    (claims["cnf"] as? [String: Any])?["x5t#S256"] as? String == x5t, "x5t#S256 = \(x5t): \(claims)")
                // htm/htu are the method and target of the request the backend is serving.
                #expect(claims["htm"] as? String == echo.method && echo.method == method, "\(claims)")
                #expect(claims["htu"] as? String == echo.target && echo.target == path, "\(claims)")
                let iat = (claims["iat"] as? NSNumber)?.intValue ?? 0
                let exp = (claims["exp"] as? NSNumber)?.intValue ?? 0
                #expect(exp - iat == 60, "default --identity-token-ttl 60s: \(claims)")
                #expect(abs(Double(iat) - Date().timeIntervalSince1970) < 300, "iat is now: \(claims)")
                let jti = claims["jti"] as? String ?? ""
                #expect(!jti.isEmpty, "\(claims)")
                jtis.append(jti)
                for variant in ["tampered_payload", "tampered_signature", "tampered_claims"] {
                    #expect(result[variant] as? String == "InvalidSignatureError", "\(variant): \(result)")
                }
                #expect(result["tampered_alg_none"] as? String != "ok", "\(result)")
                // Another key does not verify it.
                let (_, otherPublic) = try CertFacts.signingKey(kind, in: scratch, name: kind + "-other")
                let other = try Self.check(tokens[0], publicKey: otherPublic, algorithm: algorithm)
                #expect(other["verified"] as? String == "InvalidSignatureError", "\(other)")
            }
            #expect(Set(jtis).count == jtis.count, "a fresh jti per request: \(jtis)")
        }

        @Test(
            "--identity-token-ttl 1s: exp - iat = 1; the signature verifies, and after waiting 2.5 s PyJWT with leeway 0 says ExpiredSignatureError"
        )
        func expiry() throws {
            let scratch = TemporaryDirectory("symbolon-e2e-http-jws-ttl")
            let (key, publicKey) = try CertFacts.signingKey("P-256", in: scratch)
            let s = try HTTPProxySetup.start(["--sign-identity", key, "--identity-token-ttl", "1s"])
            defer { s.stop() }
            let reply = try s.python("/orders")
            let echo = try #require(reply.echo, "\(reply)\n\(s.proxy.logText)")
            let token = try #require(echo.headers.value("x-symbolon-identity"), "\(echo.headers)")
            let fresh = try Self.check(token, publicKey: publicKey, algorithm: "ES256", ["--no-exp"])
            #expect(fresh["verified"] as? String == "ok", "\(fresh)")
            let claims = fresh["claims"] as? [String: Any] ?? [:]
            let iat = (claims["iat"] as? NSNumber)?.intValue ?? 0
            let exp = (claims["exp"] as? NSNumber)?.intValue ?? 0
            #expect(exp - iat == 1, "\(claims)")
            Thread.sleep(forTimeInterval: 2.5)
            let expired = try Self.check(token, publicKey: publicKey, algorithm: "ES256", ["--leeway", "0"])
            #expect(expired["verified"] as? String == "ExpiredSignatureError", "\(expired)")
        }

        @Test(
            "--signed-identity-header X-Proof: the token arrives in X-Proof (a forged one removed), not in X-Symbolon-Identity; a CN-only client's sub is cn:NAME, without spiffe_id"
        )
        func renamedHeaderAndCommonName() throws {
            let scratch = TemporaryDirectory("symbolon-e2e-http-jws-name")
            let (key, publicKey) = try CertFacts.signingKey("Ed25519", in: scratch)
            let pki = try ProxyPKI.shared.get()
            let alice = try pki.ca.issue("client", ["--cn", "alice"], as: "http-jws-alice-\(UUID().uuidString)")
            let s = try HTTPProxySetup.start(
                ["--sign-identity", key, "--signed-identity-header", "X-Proof"], allow: ["--allow-cn", "alice"])
            defer { s.stop() }
            let reply = try s.python("/whoami", as: alice, headers: ["x-proof: forged-token"])
            let echo = try #require(reply.echo, "\(reply)\n\(s.proxy.logText)")
            let tokens = echo.headers.values("x-proof")
            try #require(tokens.count == 1, "\(echo.headers)")
            #expect(!echo.headers.has("x-symbolon-identity"), "\(echo.headers)")
            let result = try Self.check(tokens[0], publicKey: publicKey, algorithm: "EdDSA")
            #expect(result["verified"] as? String == "ok", "\(result)")
            let claims = result["claims"] as? [String: Any] ?? [:]
            #expect(claims["sub"] as? String == "cn:alice", "\(claims)")
            #expect(claims["spiffe_id"] == nil, "\(claims)")
            #expect(
                (claims["cnf"] as? [String: Any])?["x5t#S256"] as? String
                    == (try CertFacts.x5tS256(ofCertificate: alice.cert)), "\(claims)")
        }

        @Test(
            "A replaced signing key is reloaded and used from the next request, also on a connection already open: the token verifies with the new public key, not the old"
        )
        func signingKeyReload() throws {
            let scratch = TemporaryDirectory("symbolon-e2e-http-jws-reload")
            let (first, firstPublic) = try CertFacts.signingKey("P-256", in: scratch, name: "first")
            let (second, secondPublic) = try CertFacts.signingKey("Ed25519", in: scratch, name: "second")
            let live = scratch.file("live-signing.key")
            try replaceFile(live, with: E2E.read(first))
            let s = try HTTPProxySetup.start(["--sign-identity", live, "--watch-interval", "1s"])
            defer { s.stop() }
            let session = try HTTPSession(address: s.proxy.address, as: s.pki.client, ca: s.pki.ca.root)
            defer { session.stop() }
            let before = try session.request("GET", "/before")
            let beforeToken = try #require(Echo(before["echo"])?.headers.value("x-symbolon-identity"), "\(before)")
            #expect(
                try Self.check(beforeToken, publicKey: firstPublic, algorithm: "ES256")["verified"] as? String == "ok")
            let mark = s.proxy.log.count
            try replaceFile(live, with: E2E.read(second))
            #expect(s.proxy.event("reloaded", from: mark) != nil, "\(s.proxy.logText)")
            let after = try session.request("GET", "/after")
            #expect(after.localPort == before.localPort, "the same client connection: \(before) \(after)")
            let afterToken = try #require(Echo(after["echo"])?.headers.value("x-symbolon-identity"), "\(after)")
            let verified = try Self.check(afterToken, publicKey: secondPublic, algorithm: "EdDSA")
            #expect(verified["verified"] as? String == "ok", "\(verified)")
            #expect((verified["header"] as? [String: Any])?["kid"] as? String == (try CertFacts.kid(ofKey: second)))
            let old = try Self.check(afterToken, publicKey: firstPublic, algorithm: "ES256")
            #expect(old["verified"] as? String != "ok", "\(old)")
        }

        @Test(
            "An unauthenticated client (--client-auth request, policy allowUnauthenticated): no token and no identity header at all, forged copies removed"
        )
        func unauthenticatedGetsNothing() throws {
            let scratch = TemporaryDirectory("symbolon-e2e-http-unauth")
            let (key, _) = try CertFacts.signingKey("P-256", in: scratch)
            let policy = try scratch.write(
                "policy.json",
                #"{"allowUnauthenticated": true, "rules": [{"spiffeId": "spiffe://acme.internal/ns/payments/*"}]}"#)
            let s = try HTTPProxySetup.start(
                ["--sign-identity", key, "--client-auth", "request"], allow: ["--policy", policy])
            defer { s.stop() }
            let reply = try HTTPClients.curl(
                s.url("/"), as: nil, ca: s.pki.ca.root, forgedIdentityHeaders.flatMap { ["-H", $0] })
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            for name in [
                "x-forwarded-client-cert", "client-cert", "client-cert-chain", "x-client-spiffe-id",
                "x-symbolon-identity",
            ] {
                #expect(!echo.headers.has(name), "\(name)\n\(echo.headers)")
            }
            #expect(echo.headers.values("x-harmless") == ["kept as sent"], "\(echo.headers)")
        }

        @Test("An RSA --sign-identity key is refused at start (P-256, P-384 or Ed25519 only), naming the file")
        func rsaKeyRefused() throws {
            let scratch = TemporaryDirectory("symbolon-e2e-http-jws-rsa")
            let (key, _) = try CertFacts.signingKey("RSA", in: scratch)
            let pki = try ProxyPKI.shared.get()
            let result = try ProcessRunner.run(
                ProcessRunner.symbolonPath,
                ["proxy", "server"] + pki.serverArguments(target: "127.0.0.1:9") + [
                    "--mode", "http", "--allow-all", "--sign-identity", key,
                ], timeout: 10)
            #expect(result.status != 0 && result.status != -9, "\(result)")
            #expect(!result.output.contains("listening"), "\(result)")
            #expect(result.stderr.contains("sign-RSA.key"), "\(result)")
        }
    }
}
