import Foundation
import TestSupport
import Testing
import X509

@Suite("CSRs, CRLs and PKCS#12")
struct CSRAndCRLTests {
    @Test("a CSR round-trips its subject, names and key, and its signature verifies")
    func csrRoundTrip() throws {
        let key = try PrivateKey.generate()
        let csr = try CertificateSigningRequest.create(
            subject: DistinguishedName([("CN", "api")]),
            subjectAlternativeNames: [.uri("spiffe://acme.internal/api"), .dns("api.acme.internal")], key: key)
        let parsed = try CertificateSigningRequest(pemEncoded: csr.pemEncoded)
        #expect(parsed.subject.commonName == "api")
        #expect(parsed.subjectAlternativeNames == [.uri("spiffe://acme.internal/api"), .dns("api.acme.internal")])
        #expect(parsed.publicKey == key.publicKey)
        #expect(parsed.isSignatureValid)
        try parsed.verifySignature()
    }

    @Test("a CSR whose signature does not verify is detected")
    func tamperedCSR() throws {
        let key = try PrivateKey.generate()
        let csr = try CertificateSigningRequest.create(subject: DistinguishedName([("CN", "api")]), key: key)
        var der = csr.der
        // The signature is the last bytes of the DER; flipping one keeps the structure valid.
        der[der.count - 3] ^= 0x01
        let tampered = try CertificateSigningRequest(der: der)
        #expect(!tampered.isSignatureValid)
        let error = #expect(throws: X509Error.self) { try tampered.verifySignature() }
        #expect(error?.code == .badSignature)
    }

    @Test("a CRL carries its number, dates, AKI and entries with reasons, and verifies with its issuer only")
    func crl() throws {
        let pki = try FixturePKI()
        let now = Date()
        let crl = try CertificateRevocationList.create(
            issuer: pki.intermediate, issuerKey: pki.intermediateKey, number: 7, thisUpdate: now,
            nextUpdate: now.addingTimeInterval(3600),
            entries: [
                .init(serial: "7f01", revocationDate: now, reasonCode: 1),
                .init(serial: "0abc", revocationDate: now, reasonCode: 0),
            ])
        let parsed = try CertificateRevocationList.parseAll(pemEncoded: crl.pemEncoded)[0]
        #expect(parsed.number == 7)
        #expect(parsed.issuer == pki.intermediate.subject)
        #expect(parsed.authorityKeyIdentifier == pki.intermediate.subjectKeyIdentifier)
        #expect(abs(parsed.nextUpdate!.timeIntervalSince(now.addingTimeInterval(3600))) < 1)
        #expect(parsed.entry(serial: "7f01")?.reasonCode == 1)
        #expect(parsed.entry(serial: "0abc")?.reasonCode == nil)  // unspecified is left out (RFC 5280 5.3.1)
        #expect(parsed.isSigned(by: pki.intermediate))
        #expect(!parsed.isSigned(by: pki.root))
    }

    @Test("a PKCS#12 bundle opens with its passphrase and holds the certificate, key and chain")
    func pkcs12() throws {
        let pki = try FixturePKI()
        let (leaf, key) = try pki.leaf(names: [.email("alice@acme.internal")], commonName: "Alice")
        let der = try PKCS12Bundle.make(
            certificate: leaf, key: key, chain: [pki.intermediate], friendlyName: "Alice", passphrase: "p12-pass")
        let (certificate, opened, chain) = try PKCS12Bundle.open(der: der, passphrase: "p12-pass")
        #expect(certificate == leaf)
        #expect(opened.publicKey == key.publicKey)
        #expect(chain == [pki.intermediate])
        let error = #expect(throws: X509Error.self) { try PKCS12Bundle.open(der: der, passphrase: "nope") }
        #expect(error?.code == .wrongPassphrase)
    }

    @Test("a PKCS#12 refuses a key that does not match the certificate")
    func pkcs12Mismatch() throws {
        let pki = try FixturePKI()
        let (leaf, _) = try pki.leaf()
        #expect(throws: X509Error.self) {
            try PKCS12Bundle.make(
                certificate: leaf, key: try PrivateKey.generate(), chain: [], friendlyName: nil, passphrase: "x")
        }
    }
}
