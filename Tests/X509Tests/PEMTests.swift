import Foundation
import TestSupport
import Testing
import X509

@Suite("PEM and certificate parsing")
struct PEMTests {
    @Test(
        "malformed PEM is refused with a message that names the problem",
        arguments: [
            ("", "no PEM block"),
            ("just text", "no PEM block"),
            ("-----BEGIN CERTIFICATE-----\nMIIB\n", "not terminated"),
            ("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "not valid base64"),
            ("-----BEGIN CERTIFICATE-----\nMIIB\n-----END X509 CRL-----\n", "ends with"),
            ("-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\nMIIB\n-----END CERTIFICATE-----\n", "header"),
        ])
    func malformedPEM(input: String, expected: String) {
        let error = #expect(throws: X509Error.self) { try Certificate(pemEncoded: input) }
        #expect(error?.reason.contains(expected) == true, "got: \(String(describing: error))")
    }

    @Test("valid base64 that is not a certificate is refused")
    func notACertificate() {
        let block = PEMBlock(label: "CERTIFICATE", der: Array("hello, world".utf8)).pemEncoded
        let error = #expect(throws: X509Error.self) { try Certificate(pemEncoded: block) }
        #expect(error?.code == .malformedInput)
    }

    @Test("a certificate with trailing bytes after its DER is refused")
    func trailingBytes() throws {
        let pki = try FixturePKI()
        let error = #expect(throws: X509Error.self) { try Certificate(der: pki.root.der + [0, 0]) }
        #expect(error?.code == .malformedInput)
    }

    @Test("a parsed certificate exposes its fields")
    func fields() throws {
        let pki = try FixturePKI()
        let (leaf, _) = try pki.leaf(
            names: [
                .uri("spiffe://acme.internal/ns/payments/sa/api"), .dns("api.acme.internal"), .ipAddress("10.1.2.3"),
                .ipAddress("::1"), .email("ops@acme.internal"),
            ], commonName: "api")
        let parsed = try Certificate(pemEncoded: leaf.pemEncoded)
        #expect(parsed == leaf)
        #expect(parsed.version == 3)
        #expect(parsed.subject.commonName == "api")
        #expect(parsed.issuer == pki.intermediate.subject)
        #expect(parsed.spiffeID?.description == "spiffe://acme.internal/ns/payments/sa/api")
        #expect(parsed.subjectAlternativeNames.contains(.dns("api.acme.internal")))
        #expect(parsed.subjectAlternativeNames.contains(.ipAddress("10.1.2.3")))
        #expect(parsed.subjectAlternativeNames.contains(.ipAddress("::1")))
        #expect(parsed.subjectAlternativeNames.contains(.email("ops@acme.internal")))
        #expect(parsed.basicConstraints == BasicConstraints(isCA: false))
        #expect(parsed.keyUsage == [.digitalSignature])
        #expect(parsed.extendedKeyUsage == [.clientAuth, .serverAuth])
        #expect(parsed.authorityKeyIdentifier == pki.intermediate.subjectKeyIdentifier)
        #expect(parsed.subjectKeyIdentifier?.count == 20)
        #expect(parsed.serial.count == 32)
        #expect(parsed.fingerprintSHA256.count == 32)
        #expect(pki.intermediate.nameConstraints?.permitted == [.uri("acme.internal")])
        #expect(pki.intermediate.basicConstraints == BasicConstraints(isCA: true, pathLength: 0))
        #expect(pki.root.isSelfSigned)
        #expect(!pki.intermediate.isSelfSigned)
    }

    @Test("CRL distribution points and OCSP URLs are written and read back")
    func distributionPoints() throws {
        let pki = try FixturePKI()
        let key = try PrivateKey.generate()
        var builder = CertificateBuilder(
            subject: DistinguishedName([("CN", "x")]), publicKey: key.publicKey, notBefore: Date(),
            notAfter: Date().addingTimeInterval(60))
        builder.crlDistributionPoints = ["http://ca.acme.internal/crl.pem"]
        builder.ocspURLs = ["http://ca.acme.internal/ocsp"]
        let leaf = try builder.sign(issuer: pki.intermediate, issuerKey: pki.intermediateKey)
        #expect(leaf.crlDistributionPoints == ["http://ca.acme.internal/crl.pem"])
        #expect(leaf.ocspURLs == ["http://ca.acme.internal/ocsp"])
    }

    @Test("a bundle yields every certificate in order")
    func bundle() throws {
        let pki = try FixturePKI()
        let all = try Certificate.parseBundle(
            pemEncoded: pki.intermediate.pemEncoded + "comment\n" + pki.root.pemEncoded)
        #expect(all == [pki.intermediate, pki.root])
    }

    @Test("a SAN value containing a comma cannot smuggle in a second name")
    func commaInjection() throws {
        let pki = try FixturePKI()
        #expect(throws: X509Error.self) { try pki.leaf(names: [.dns("a.example,DNS:evil.example")]) }
        #expect(throws: X509Error.self) { try pki.leaf(names: [.uri("spiffe://acme.internal/a,URI:spiffe://x/y")]) }
    }
}
