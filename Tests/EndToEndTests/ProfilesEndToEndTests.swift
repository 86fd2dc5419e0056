import Foundation
import TestSupport
import Testing

/// One built-in profile, the flags that issue under it, and what `openssl x509 -text` must then show.
struct ProfileCase: Sendable, CustomTestStringConvertible {
    let profile: String
    let arguments: [String]
    /// The Extended Key Usage line as openssl prints it.
    let extendedKeyUsage: String
    /// Every SAN openssl must print (in `X509v3 Subject Alternative Name`); empty means no SAN extension.
    let names: [String]
    /// Fragments of openssl's one-line subject.
    let subject: [String]

    var testDescription: String { profile }

    static let all: [ProfileCase] = [
        ProfileCase(
            profile: "service", arguments: ["--spiffe-id", "spiffe://acme.internal/ns/payments/sa/api"],
            extendedKeyUsage: "TLS Web Server Authentication, TLS Web Client Authentication",
            names: ["URI:spiffe://acme.internal/ns/payments/sa/api"], subject: ["O = Acme"]),
        ProfileCase(
            profile: "server", arguments: ["--dns", "www.acme.com", "--dns", "api.acme.com", "--ip", "10.1.2.3"],
            extendedKeyUsage: "TLS Web Server Authentication",
            names: ["DNS:www.acme.com", "DNS:api.acme.com", "IP Address:10.1.2.3"], subject: ["O = Acme"]),
        ProfileCase(
            profile: "client", arguments: ["--cn", "batch-job-7"], extendedKeyUsage: "TLS Web Client Authentication",
            names: [], subject: ["CN = batch-job-7"]),
        ProfileCase(
            profile: "user", arguments: ["--cn", "Alice Smith", "--email", "alice@acme.com"],
            extendedKeyUsage: "TLS Web Client Authentication", names: ["email:alice@acme.com"],
            subject: ["CN = Alice Smith"]),
        ProfileCase(
            profile: "device", arguments: ["--device-serial", "SN-000123"],
            extendedKeyUsage: "TLS Web Client Authentication", names: [], subject: ["serialNumber = SN-000123"]),
    ]
}

@Suite("Profiles: what ca init and ca issue produce, as openssl sees it")
struct ProfilesEndToEndTests {
    /// One CA for the whole suite: every test here only adds certificates or reads.
    static let shared = Result { try TestCA(label: "profiles") }

    /// The lines under an extension header in `openssl x509 -text` output, e.g. "X509v3 Key Usage".
    static func extensionBlock(_ text: String, _ name: String) -> (header: String, value: String)? {
        let lines = text.components(separatedBy: "\n")
        guard let index = lines.firstIndex(where: { $0.contains(name + ":") }) else { return nil }
        var value: [String] = []
        for line in lines[(index + 1)...] {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("X509v3 ") || trimmed.hasPrefix("Signature Algorithm")
                || trimmed.hasPrefix("Authority Information")
                || trimmed.isEmpty
            {
                break
            }
            value.append(trimmed)
        }
        return (lines[index].trimmingCharacters(in: .whitespaces), value.joined(separator: "\n"))
    }

    @Test(
        "A leaf of every built-in profile passes openssl verify -x509_strict against root + intermediate",
        arguments: ProfileCase.all)
    func leafVerifiesStrictly(_ profile: ProfileCase) throws {
        let ca = try Self.shared.get()
        let leaf = try ca.issue(profile.profile, profile.arguments, as: "verify-\(profile.profile)")
        let result = try ca.opensslVerify(leaf.cert)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("\(leaf.cert): OK"), "\(result)")
    }

    @Test(
        "A leaf of every built-in profile carries critical KU digitalSignature, the profile's EKU, its SANs, CA:FALSE and both key identifiers",
        arguments: ProfileCase.all)
    func leafExtensions(_ profile: ProfileCase) throws {
        let ca = try Self.shared.get()
        let leaf = try ca.issue(profile.profile, profile.arguments, as: "ext-\(profile.profile)")
        let text = try E2E.openssl(["x509", "-in", leaf.cert, "-text", "-noout"])
        try #require(text.status == 0, "\(text)")
        let output = text.stdout

        let keyUsage = try #require(Self.extensionBlock(output, "X509v3 Key Usage"), "no key usage in:\n\(output)")
        #expect(keyUsage.header.hasSuffix("critical"), "key usage must be critical: \(keyUsage.header)")
        #expect(keyUsage.value == "Digital Signature", "key usage: \(keyUsage.value)")

        let eku = try #require(Self.extensionBlock(output, "X509v3 Extended Key Usage"), "no EKU in:\n\(output)")
        #expect(eku.value == profile.extendedKeyUsage, "EKU: \(eku.value)")

        let basic = try #require(Self.extensionBlock(output, "X509v3 Basic Constraints"), "no basic constraints")
        #expect(basic.value == "CA:FALSE", "basic constraints: \(basic.value)")

        let ski = try #require(Self.extensionBlock(output, "X509v3 Subject Key Identifier"), "no SKI")
        #expect(!ski.value.isEmpty)
        let aki = try #require(Self.extensionBlock(output, "X509v3 Authority Key Identifier"), "no AKI")
        // The AKI must name the intermediate's key.
        let intermediateText = try E2E.openssl(["x509", "-in", ca.intermediate, "-text", "-noout"]).stdout
        let intermediateSKI = try #require(Self.extensionBlock(intermediateText, "X509v3 Subject Key Identifier"))
        #expect(aki.value.replacingOccurrences(of: "keyid:", with: "") == intermediateSKI.value, "AKI \(aki.value)")

        let san = Self.extensionBlock(output, "X509v3 Subject Alternative Name")
        if profile.names.isEmpty {
            #expect(san == nil, "unexpected SAN: \(san?.value ?? "")")
        } else {
            let names = (san?.value ?? "").components(separatedBy: ", ")
            #expect(Set(names) == Set(profile.names), "SANs: \(names)")
        }
        let subject = try E2E.openssl(["x509", "-in", leaf.cert, "-noout", "-subject"]).stdout
        for fragment in profile.subject { #expect(subject.contains(fragment), "subject: \(subject)") }
    }

    @Test(
        "--out-cert holds the leaf followed by the intermediate, and --out-key (mode 0600) holds the leaf's key",
        arguments: ProfileCase.all)
    func outputFiles(_ profile: ProfileCase) throws {
        let ca = try Self.shared.get()
        let leaf = try ca.issue(profile.profile, profile.arguments, as: "files-\(profile.profile)")
        let blocks = E2E.pemBlocks(E2E.read(leaf.cert))
        try #require(blocks.count == 2, "expected leaf + intermediate, found \(blocks.count) PEM blocks")
        #expect(blocks.allSatisfy { $0.label == "CERTIFICATE" })
        let intermediate = E2E.pemBlocks(E2E.read(ca.intermediate))
        #expect(blocks[1].der == intermediate.first?.der, "the second certificate must be the intermediate")
        #expect(blocks[0].der != blocks[1].der)
        #expect(E2E.serialOfFirstCertificate(in: leaf.cert) == leaf.serial, "the first certificate is the issued leaf")

        #expect(E2E.mode(leaf.key) == 0o600, "key file mode: \(String(E2E.mode(leaf.key) ?? -1, radix: 8))")
        // The key belongs to the leaf: same public key.
        let fromCert = try E2E.openssl(["x509", "-in", leaf.cert, "-noout", "-pubkey"])
        let fromKey = try E2E.openssl(["pkey", "-in", leaf.key, "-pubout"])
        #expect(fromCert.status == 0 && fromKey.status == 0, "\(fromCert)\n\(fromKey)")
        #expect(!fromCert.stdout.isEmpty && fromCert.stdout == fromKey.stdout)
    }

    @Test(
        "The intermediate has critical name constraints (URI:acme.internal, DNS:acme.com), critical CA:TRUE pathlen:0 and is signed by the root"
    )
    func intermediateConstraints() throws {
        let ca = try Self.shared.get()
        let text = try E2E.openssl(["x509", "-in", ca.intermediate, "-text", "-noout"])
        try #require(text.status == 0, "\(text)")
        let constraints = try #require(
            Self.extensionBlock(text.stdout, "X509v3 Name Constraints"), "no name constraints:\n\(text.stdout)")
        #expect(constraints.header.hasSuffix("critical"), "\(constraints.header)")
        let lines = constraints.value.components(separatedBy: "\n")
        #expect(lines.first == "Permitted:", "\(lines)")
        #expect(Set(lines.dropFirst()) == ["URI:acme.internal", "DNS:acme.com"], "\(lines)")
        let basic = try #require(Self.extensionBlock(text.stdout, "X509v3 Basic Constraints"))
        #expect(basic.header.hasSuffix("critical"))
        #expect(basic.value == "CA:TRUE, pathlen:0", "\(basic.value)")
        let verified = try E2E.openssl(["verify", "-x509_strict", "-CAfile", ca.root, ca.intermediate])
        #expect(verified.status == 0, "\(verified)")
    }

    @Test(
        "The root key is stored as an ENCRYPTED PRIVATE KEY that only the passphrase opens; the intermediate key is mode 0600"
    )
    func keyFiles() throws {
        let ca = try Self.shared.get()
        let rootKey = E2E.read(ca.rootKey)
        #expect(rootKey.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "\(rootKey.prefix(40))")
        #expect(!rootKey.contains("BEGIN PRIVATE KEY"))
        let opened = try E2E.openssl(["pkey", "-in", ca.rootKey, "-passin", "file:\(ca.passphraseFile)", "-noout"])
        #expect(opened.status == 0, "the passphrase must open the root key: \(opened)")
        let wrong = try E2E.openssl(["pkey", "-in", ca.rootKey, "-passin", "pass:not-the-passphrase", "-noout"])
        #expect(wrong.status != 0, "a wrong passphrase must not open the root key")
        #expect(E2E.mode(ca.rootKey) == 0o600)
        #expect(E2E.mode(ca.intermediateKey) == 0o600)
    }

    @Test(
        "A leaf for spiffe://evil.example signed with the intermediate key behind the CA's back is rejected by openssl and by symbolon cert verify as a name-constraint violation"
    )
    func forgedLeafOutsideTrustDomain() throws {
        let ca = try Self.shared.get()
        // Control: the same openssl-made construction inside the trust domain is a valid leaf, so the rejection
        // below is about the name and nothing else.
        let inside = try ca.forgeLeaf(san: "URI:spiffe://acme.internal/x", as: "forged-inside")
        let insideOpenSSL = try ca.opensslVerify(inside)
        #expect(insideOpenSSL.status == 0, "control leaf must verify: \(insideOpenSSL)")
        let insideSymbolon = try ca.symbolonVerify(inside)
        #expect(insideSymbolon.status == 0, "control leaf must verify: \(insideSymbolon)")

        let evil = try ca.forgeLeaf(san: "URI:spiffe://evil.example/x", as: "forged-evil")
        let openssl = try ca.opensslVerify(evil)
        #expect(openssl.status != 0, "\(openssl)")
        #expect(openssl.output.contains("permitted subtree violation"), "\(openssl)")
        let symbolon = try ca.symbolonVerify(evil)
        #expect(symbolon.status == 1, "\(symbolon)")
        #expect(
            symbolon.output.lowercased().contains("name constraint")
                || symbolon.output.contains("nameConstraintViolation"), "\(symbolon)")
    }

    @Test("ca issue refuses a SPIFFE ID outside the trust domain (exit 1), naming the trust domain, and writes nothing")
    func issueRefusesForeignSPIFFEID() throws {
        let ca = try Self.shared.get()
        let cert = ca.file("foreign.pem")
        let key = ca.file("foreign-key.pem")
        let result = try ca.symbolon([
            "ca", "issue", "--profile", "service", "--spiffe-id", "spiffe://evil.example/x", "--out-cert", cert,
            "--out-key", key,
        ])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("acme.internal"), "\(result)")
        #expect(result.stderr.contains("trust domain"), "\(result)")
        #expect(!E2E.exists(cert) && !E2E.exists(key))
    }
}
