import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy server: identities forged behind the CA's back never pass for an allowed one")
    struct ForgedIdentities {
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
    }
}
