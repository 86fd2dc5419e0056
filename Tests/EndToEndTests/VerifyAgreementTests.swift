import Foundation
import TestSupport
import Testing

/// Everything the agreement table needs, built once: a CA with a leaf of each profile, a revoked leaf, CRLs, two
/// leaves made behind the CA's back with openssl (one inside the trust domain, one outside), and a leaf of another
/// CA that has exactly the same names but its own keys.
struct VerifyFixture: Sendable {
    let ca: TestCA
    let other: TestCA
    let now: Date
    let leaves: [VerifyLeaf: String]
    let crl: String
    let rootCRL: String
    /// CRLs published by `other` (same issuer names, other keys).
    let foreignCRL: String
    let foreignRootCRL: String

    init() throws {
        now = Date()
        ca = try TestCA(label: "verify")
        other = try TestCA(label: "verify-other")
        var leaves: [VerifyLeaf: String] = [:]
        leaves[.service] = try ca.issue("service", ["--spiffe-id", "spiffe://acme.internal/api"], as: "service").cert
        leaves[.server] = try ca.issue("server", ["--dns", "www.acme.com", "--ip", "10.0.0.1"], as: "server").cert
        leaves[.client] = try ca.issue("client", ["--cn", "batch"], as: "client").cert
        leaves[.user] = try ca.issue("user", ["--cn", "Alice Smith", "--email", "alice@acme.com"], as: "user").cert
        leaves[.device] = try ca.issue("device", ["--device-serial", "SN-1"], as: "device").cert
        leaves[.clientWithHostnameCN] = try ca.issue("client", ["--cn", "host.acme.com"], as: "client-cn").cert
        let revoked = try ca.issue("service", ["--spiffe-id", "spiffe://acme.internal/revoked"], as: "revoked")
        leaves[.revoked] = revoked.cert
        leaves[.otherCA] = try other.issue(
            "service", ["--spiffe-id", "spiffe://acme.internal/api"], as: "other-service"
        ).cert
        leaves[.forgedInside] = try ca.forgeLeaf(san: "URI:spiffe://acme.internal/forged", as: "forged-inside")
        leaves[.forgedOutside] = try ca.forgeLeaf(san: "URI:spiffe://evil.example/forged", as: "forged-outside")
        leaves[.forgedDNSOutside] = try ca.forgeLeaf(
            san: "DNS:www.evil.com", as: "forged-dns", extendedKeyUsage: "serverAuth")
        try ca.revoke(serial: revoked.serial)
        crl = try ca.publishCRL(to: "crl.pem")
        rootCRL = try ca.publishCRL(issuer: "root", to: "root-crl.pem")
        foreignCRL = try other.publishCRL(to: "crl.pem")
        foreignRootCRL = try other.publishCRL(issuer: "root", to: "root-crl.pem")
        self.leaves = leaves
    }
}

enum VerifyLeaf: String, Sendable, Hashable {
    case service, server, client, user, device, clientWithHostnameCN, revoked, otherCA, forgedInside, forgedOutside,
        forgedDNSOutside
}

/// A condition put to both tools, each in its own spelling.
enum VerifyCondition: Sendable {
    /// Check at now + offset: symbolon --time RFC3339, openssl -attime epoch.
    case time(TimeInterval)
    /// symbolon --purpose client|server, openssl -purpose sslclient|sslserver.
    case purpose(String)
    /// symbolon --crls …, openssl -crl_check_all -CRLfile … (symbolon always checks the whole chain).
    case crls(root: Bool)
    /// symbolon --max-depth N, openssl -verify_depth N. Both count intermediates only (OpenSSL: "neither the
    /// end-entity certificate nor the trust-anchor certificate count against the -verify_depth limit").
    case maxDepth(Int)
    /// symbolon --dns-name, openssl -verify_hostname.
    case dns(String)
    /// symbolon --ip-address, openssl -verify_ip.
    case ip(String)
    /// symbolon --email, openssl -verify_email.
    case email(String)
    /// CRLs of the other CA (same issuer names, different keys) in place of this CA's.
    case foreignCRLs
    /// Trust the intermediate alone: symbolon --roots intermediate.pem, openssl -CAfile intermediate.pem (no
    /// -partial_chain: symbolon has no such option either).
    case trustIntermediateOnly
}

struct VerifyCase: Sendable, CustomTestStringConvertible {
    let name: String
    let leaf: VerifyLeaf
    let conditions: [VerifyCondition]
    let accepted: Bool
    var testDescription: String { name }

    init(_ name: String, _ leaf: VerifyLeaf, _ conditions: [VerifyCondition] = [], accepted: Bool) {
        self.name = name
        self.leaf = leaf
        self.conditions = conditions
        self.accepted = accepted
    }

    static let all: [VerifyCase] = [
        VerifyCase("good service leaf", .service, accepted: true),
        VerifyCase("good server leaf", .server, accepted: true),
        VerifyCase("good client leaf", .client, accepted: true),
        VerifyCase("good user leaf", .user, accepted: true),
        VerifyCase("good device leaf", .device, accepted: true),
        VerifyCase("service leaf checked 3 days from now (expired)", .service, [.time(3 * 86_400)], accepted: false),
        VerifyCase(
            "service leaf checked 2 years from now (leaf and intermediate expired)", .service, [.time(730 * 86_400)],
            accepted: false),
        VerifyCase("service leaf checked 2 days ago (not yet valid)", .service, [.time(-2 * 86_400)], accepted: false),
        VerifyCase(
            "service leaf checked 12 hours from now (still valid)", .service, [.time(12 * 3600)], accepted: true),
        VerifyCase("leaf of another CA with the same names", .otherCA, accepted: false),
        VerifyCase("serverAuth-only leaf used as a TLS client", .server, [.purpose("client")], accepted: false),
        VerifyCase("serverAuth-only leaf used as a TLS server", .server, [.purpose("server")], accepted: true),
        VerifyCase("clientAuth-only leaf used as a TLS server", .client, [.purpose("server")], accepted: false),
        VerifyCase("clientAuth-only leaf used as a TLS client", .client, [.purpose("client")], accepted: true),
        VerifyCase("service leaf (both EKUs) used as a TLS client", .service, [.purpose("client")], accepted: true),
        VerifyCase("forged leaf inside the trust domain", .forgedInside, accepted: true),
        VerifyCase("forged leaf with a SPIFFE ID outside the trust domain", .forgedOutside, accepted: false),
        VerifyCase("forged leaf with a DNS name outside the DNS constraints", .forgedDNSOutside, accepted: false),
        VerifyCase("revoked leaf with both CRLs", .revoked, [.crls(root: true)], accepted: false),
        VerifyCase("good leaf with both CRLs", .service, [.crls(root: true)], accepted: true),
        VerifyCase(
            "good leaf with the intermediate CRL only (root CRL missing)", .service, [.crls(root: false)],
            accepted: false),
        VerifyCase("revoked leaf without CRLs (revocation not checked)", .revoked, accepted: true),
        VerifyCase(
            "good leaf with CRLs signed by another CA with the same names", .service, [.foreignCRLs], accepted: false),
        VerifyCase(
            "user leaf checked 2 days from now, when the 24h intermediate CRL has expired", .user,
            [.time(2 * 86_400), .crls(root: true)], accepted: false),
        VerifyCase("user leaf checked 2 days from now without CRLs", .user, [.time(2 * 86_400)], accepted: true),
        VerifyCase("only the intermediate trusted", .service, [.trustIntermediateOnly], accepted: false),
        VerifyCase("max depth 0 with one intermediate", .service, [.maxDepth(0)], accepted: false),
        VerifyCase("max depth 1 with one intermediate", .service, [.maxDepth(1)], accepted: true),
        VerifyCase("DNS name the server leaf carries", .server, [.dns("www.acme.com")], accepted: true),
        VerifyCase("DNS name the server leaf does not carry", .server, [.dns("api.acme.com")], accepted: false),
        VerifyCase("DNS name differing in case", .server, [.dns("WWW.Acme.COM")], accepted: true),
        VerifyCase("IP address the server leaf carries", .server, [.ip("10.0.0.1")], accepted: true),
        VerifyCase("IP address the server leaf does not carry", .server, [.ip("10.0.0.2")], accepted: false),
        VerifyCase("e-mail address the user leaf carries", .user, [.email("alice@acme.com")], accepted: true),
        VerifyCase("e-mail address the user leaf does not carry", .user, [.email("bob@acme.com")], accepted: false),
        VerifyCase(
            "DNS name asked of a leaf with no DNS names", .service, [.dns("api.acme.internal")], accepted: false),
    ]
}

@Suite("cert verify agrees with openssl verify")
struct VerifyAgreementTests {
    static let shared = Result { try VerifyFixture() }

    /// The two command lines for `test` on `leaf`: symbolon cert verify and openssl verify -x509_strict.
    static func commands(_ test: VerifyCase, _ f: VerifyFixture, leaf: String) -> (
        symbolon: [String], openssl: [String]
    ) {
        let roots =
            test.conditions.contains { if case .trustIntermediateOnly = $0 { return true } else { return false } }
            ? f.ca.intermediate : f.ca.root
        let (symbolon, openssl) = arguments(test, f)
        return (
            ["cert", "verify", "--roots", roots, "--intermediates", f.ca.intermediate, "--leaf", leaf] + symbolon,
            ["verify", "-x509_strict", "-CAfile", roots, "-untrusted", f.ca.intermediate] + openssl + [leaf]
        )
    }

    static func arguments(_ test: VerifyCase, _ f: VerifyFixture) -> (symbolon: [String], openssl: [String]) {
        var symbolon: [String] = []
        var openssl: [String] = []
        for condition in test.conditions {
            switch condition {
            case .time(let offset):
                let when = f.now.addingTimeInterval(offset)
                symbolon += ["--time", E2E.rfc3339(when)]
                openssl += ["-attime", E2E.epoch(when)]
            case .purpose(let purpose):
                symbolon += ["--purpose", purpose]
                openssl += ["-purpose", purpose == "client" ? "sslclient" : "sslserver"]
            case .crls(let withRoot):
                symbolon += ["--crls", f.crl] + (withRoot ? ["--crls", f.rootCRL] : [])
                openssl += ["-crl_check_all", "-CRLfile", f.crl] + (withRoot ? ["-CRLfile", f.rootCRL] : [])
            case .maxDepth(let depth):
                symbolon += ["--max-depth", String(depth)]
                openssl += ["-verify_depth", String(depth)]
            case .dns(let name):
                symbolon += ["--dns-name", name]
                openssl += ["-verify_hostname", name]
            case .ip(let address):
                symbolon += ["--ip-address", address]
                openssl += ["-verify_ip", address]
            case .email(let address):
                symbolon += ["--email", address]
                openssl += ["-verify_email", address]
            case .foreignCRLs:
                symbolon += ["--crls", f.foreignCRL, "--crls", f.foreignRootCRL]
                openssl += ["-crl_check_all", "-CRLfile", f.foreignCRL, "-CRLfile", f.foreignRootCRL]
            case .trustIntermediateOnly:
                break  // see commands(_:_:leaf:)
            }
        }
        return (symbolon, openssl)
    }

    @Test(
        "symbolon cert verify and openssl verify -x509_strict reach the same, expected verdict",
        arguments: VerifyCase.all)
    func agreement(_ test: VerifyCase) throws {
        let f = try Self.shared.get()
        let leaf = try #require(f.leaves[test.leaf])
        let (symbolonCommand, opensslCommand) = Self.commands(test, f, leaf: leaf)
        let symbolon = try E2E.symbolon(symbolonCommand)
        let openssl = try E2E.openssl(opensslCommand)
        let symbolonAccepted = symbolon.status == 0
        let opensslAccepted = openssl.status == 0
        #expect(symbolon.status == 0 || symbolon.status == 1, "\(symbolon)")
        #expect(symbolonAccepted == opensslAccepted, "the tools disagree.\nsymbolon: \(symbolon)\nopenssl: \(openssl)")
        #expect(symbolonAccepted == test.accepted, "symbolon: \(symbolon)")
        #expect(opensslAccepted == test.accepted, "openssl: \(openssl)")
        if !symbolonAccepted {
            // "rejected (<code>): <reason>" with a reason of some substance.
            let line = symbolon.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(line.hasPrefix("rejected"), "\(symbolon)")
            let reason = line.components(separatedBy: "): ").dropFirst().joined(separator: "): ")
            #expect(reason.count >= 10, "symbolon must say why: \(symbolon)")
        } else {
            #expect(symbolon.stdout.hasPrefix("accepted: 3 certificates"), "\(symbolon)")
        }
    }

    @Test(
        "Rejection reasons name the right cause",
        arguments: [
            ("expired", VerifyLeaf.service, [VerifyCondition.time(3 * 86_400)], "expired"),
            ("other CA", .otherCA, [], "unknownIssuer"),
            ("purpose", .server, [.purpose("client")], "wrongPurpose"),
            ("name constraints", .forgedOutside, [], "nameConstraintViolation"),
            ("revoked", .revoked, [.crls(root: true)], "revoked"),
            ("missing CRL", .service, [.crls(root: false)], "revocationUnknown"),
            ("depth", .service, [.maxDepth(0)], "pathLengthExceeded"),
            ("DNS", .server, [.dns("api.acme.com")], "nameMismatch"),
        ] as [(String, VerifyLeaf, [VerifyCondition], String)])
    func rejectionCodes(_ name: String, _ leaf: VerifyLeaf, _ conditions: [VerifyCondition], _ code: String) throws {
        let f = try Self.shared.get()
        let test = VerifyCase(name, leaf, conditions, accepted: false)
        let result = try f.ca.symbolonVerify(try #require(f.leaves[leaf]), Self.arguments(test, f).symbolon)
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("rejected (\(code))"), "\(result)")
    }

    @Test("--uri accepts exactly the URIs that openssl x509 lists in the leaf's subjectAltName")
    func uriAgreesWithOpenSSLSAN() throws {
        let f = try Self.shared.get()
        let leaf = try #require(f.leaves[.service])
        let san = try E2E.openssl(["x509", "-in", leaf, "-noout", "-ext", "subjectAltName"])
        try #require(san.status == 0, "\(san)")
        for uri in [
            "spiffe://acme.internal/api", "spiffe://acme.internal/other", "spiffe://acme.internal/api/x",
            "spiffe://evil.example/api",
        ] {
            let listed = san.stdout.contains("URI:\(uri)\n") || san.stdout.hasSuffix("URI:\(uri)")
            let result = try f.ca.symbolonVerify(leaf, ["--uri", uri])
            #expect((result.status == 0) == listed, "\(uri): openssl lists it: \(listed); symbolon: \(result)")
        }
        // (openssl verify has no option to require a URI SAN, hence the comparison with the SAN listing.)
    }

    @Test(
        "Known divergence: for a leaf without DNS SANs, openssl -verify_hostname falls back to the subject CN; symbolon --dns-name never does"
    )
    func commonNameFallbackDiffers() throws {
        let f = try Self.shared.get()
        let leaf = try #require(f.leaves[.clientWithHostnameCN])
        let openssl = try f.ca.opensslVerify(leaf, ["-verify_hostname", "host.acme.com"])
        let symbolon = try f.ca.symbolonVerify(leaf, ["--dns-name", "host.acme.com"])
        // Documented here rather than asserted equal: symbolon checks SANs only (X509_CHECK_FLAG_NEVER_CHECK_SUBJECT),
        // as RFC 6125 §6.4.4 recommends; OpenSSL's default still honours the CN when there are no DNS SANs.
        #expect(openssl.status == 0, "\(openssl)")
        #expect(symbolon.status == 1 && symbolon.stdout.contains("nameMismatch"), "\(symbolon)")
    }
}
