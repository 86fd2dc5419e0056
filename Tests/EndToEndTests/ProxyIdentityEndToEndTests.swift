import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy server: identities: each allow flag, and forged names that must never pass for an allowed one")
    struct Identities {
        struct Case: CustomTestStringConvertible, Sendable {
            let name: String
            /// The openssl subjectAltName value.
            let san: String
            /// What the log's reason must hold.
            let reason: String
            var testDescription: String { "\(name) (\(san))" }
        }

        static let cases: [Case] = [
            Case(
                name: "two URI SANs, one allowed (not an X.509-SVID)",
                san: "URI:spiffe://acme.internal/ns/payments/api,URI:spiffe://acme.internal/ns/web/x",
                reason: "matched none"),
            Case(
                name: "a '..' segment under the allowed prefix", san: "URI:spiffe://acme.internal/ns/payments/..",
                reason: "matched none"),
            Case(name: "an escaped slash", san: "URI:spiffe://acme.internal/ns/payments/a%2Fb", reason: "matched none"),
            Case(
                name: "an upper-case trust domain", san: "URI:spiffe://ACME.internal/ns/payments/api",
                reason: "matched none"),
            Case(
                name: "another trust domain, explicitly allowed, outside the intermediate's name constraints",
                san: "URI:spiffe://evil.internal/ns/payments/api", reason: "nameConstraintViolation"),
            Case(
                name: "a sub-domain of the trust domain, explicitly allowed, outside the name constraints",
                san: "URI:spiffe://x.acme.internal/ns/payments/api", reason: "nameConstraintViolation"),
            Case(
                name: "a DNS name, explicitly allowed, outside the name constraints", san: "DNS:evil.com",
                reason: "nameConstraintViolation"),
        ]

        @Test("A forged client certificate is denied", arguments: cases)
        func forged(_ testCase: Case) throws {
            let pki = try ProxyPKI.shared.get()
            let leaf = try ProxyPKI.forgeLeaf(
                pki.ca, subject: "/CN=forged", extensions: ["subjectAltName=\(testCase.san)"],
                as: "forged-\(UUID().uuidString)")
            let backend = try Backend("echo")
            defer { backend.stop() }
            // Rules that would let the forged names in if the chain or the SVID checks were skipped.
            let proxy = try ProxyUnderTest.server(
                pki.serverArguments(target: backend.address) + [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--allow-spiffe-id",
                    "spiffe://evil.internal/ns/payments/api", "--allow-spiffe-id",
                    "spiffe://x.acme.internal/ns/payments/api", "--allow-dns", "evil.com",
                ])
            defer { proxy.stop() }
            let result = try ProxyTools.echo(proxy.address, "forged", ProxyTools.tls(leaf, ca: pki.ca.root))
            #expect(!result.stdout.contains("echo forged"), "\(result)")
            let line = proxy.connection()
            #expect(line?.decision == "denied", "\(proxy.logText)")
            #expect(line?.reason.contains(testCase.reason) == true, "\(proxy.logText)")
        }

        @Test(
            "Each --allow-* flag admits exactly its client: --allow-cn, --allow-ou, --allow-uri, --allow-spki-pin (bare and sha256//), --allow-dns"
        )
        func allowFlags() throws {
            let pki = try ProxyPKI.shared.get()
            let alice = try pki.ca.issue("client", ["--cn", "alice"], as: "alice-\(UUID().uuidString)")
            let ops = try ProxyPKI.forgeLeaf(
                pki.ca, subject: "/OU=ops/CN=bob", extensions: [], as: "ops-\(UUID().uuidString)")
            let dnsClient = try ProxyPKI.forgeLeaf(
                pki.ca, subject: "/CN=dns-client", extensions: ["subjectAltName=DNS:client.localhost"],
                as: "dns-\(UUID().uuidString)")
            let pin = try E2E.sh(
                "openssl x509 -in \(E2E.quote(pki.client.cert)) -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64"
            ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try #require(pin.count == 44, "pin: \(pin)")
            let cases: [(flag: [String], admitted: IssuedLeaf, refused: IssuedLeaf)] = [
                (["--allow-cn", "alice"], alice, pki.client),
                (["--allow-ou", "ops"], ops, alice),
                (["--allow-uri", ProxyPKI.clientID], pki.client, alice),
                (["--allow-spki-pin", pin], pki.client, pki.outsider),
                (["--allow-spki-pin", "sha256//" + pin], pki.client, pki.outsider),
                (["--allow-dns", "client.localhost"], dnsClient, pki.client),
            ]
            let backend = try Backend("echo")
            defer { backend.stop() }
            for (flag, admitted, refused) in cases {
                let proxy = try ProxyUnderTest.server(pki.serverArguments(target: backend.address) + flag)
                defer { proxy.stop() }
                let yes = try ProxyTools.echo(proxy.address, "yes", ProxyTools.tls(admitted, ca: pki.ca.root))
                #expect(yes.stdout.contains("echo yes"), "\(flag): \(yes)\n\(proxy.logText)")
                let no = try ProxyTools.echo(proxy.address, "no", ProxyTools.tls(refused, ca: pki.ca.root))
                #expect(!no.stdout.contains("echo no"), "\(flag): \(no)")
                let lines = proxy.connectionLines
                #expect(lines.map(\.decision) == ["allowed", "denied"], "\(flag): \(proxy.logText)")
                #expect(lines.last?.reason.contains("matched none") == true, "\(flag): \(proxy.logText)")
            }
        }
    }
}
