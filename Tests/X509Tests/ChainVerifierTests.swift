import Foundation
import TestSupport
import Testing
import X509

@Suite("Chain verification")
struct ChainVerifierTests {
    let pki: FixturePKI
    init() throws { pki = try FixturePKI(dnsConstraints: ["acme.internal"]) }

    func verify(_ leaf: Certificate, _ policy: VerificationPolicy = .init(), intermediates: [Certificate]? = nil)
        -> Result<[Certificate], VerificationFailure>
    {
        pki.verifier.verify(leaf: leaf, intermediates: intermediates ?? [pki.intermediate], policy: policy)
    }

    func failureCode(_ result: Result<[Certificate], VerificationFailure>) -> VerificationFailure.Code? {
        if case .failure(let failure) = result { return failure.code }
        return nil
    }

    @Test("a good chain is accepted and returned leaf to root")
    func accepted() throws {
        let (leaf, _) = try pki.leaf(names: [.uri("spiffe://acme.internal/api")])
        let chain = try verify(leaf, .tlsClient()).get()
        #expect(chain == [leaf, pki.intermediate, pki.root])
    }

    @Test("an expired leaf is rejected as expired; a future one as not yet valid")
    func validity() throws {
        let (leaf, _) = try pki.leaf(names: [.uri("spiffe://acme.internal/api")])
        #expect(failureCode(verify(leaf, VerificationPolicy(time: Date().addingTimeInterval(3 * 86_400)))) == .expired)
        #expect(failureCode(verify(leaf, VerificationPolicy(time: Date().addingTimeInterval(-7200)))) == .notYetValid)
    }

    @Test("a leaf from another CA is rejected as unknown issuer")
    func unknownIssuer() throws {
        let other = try FixturePKI()
        let (leaf, _) = try other.leaf(names: [.uri("spiffe://acme.internal/api")])
        #expect(failureCode(verify(leaf, intermediates: [other.intermediate])) == .unknownIssuer)
        #expect(failureCode(verify(leaf, intermediates: [])) == .unknownIssuer)
    }

    @Test("a serverAuth-only leaf is rejected for TLS client use, and the reason says so")
    func wrongPurpose() throws {
        let (leaf, _) = try pki.leaf(names: [.dns("api.acme.internal")], usages: [.serverAuth])
        let result = verify(leaf, .tlsClient())
        #expect(failureCode(result) == .wrongPurpose)
        #expect(
            failureCode(verify(leaf, VerificationPolicy(requiredExtendedKeyUsages: [.clientAuth]))) == .wrongPurpose)
        #expect(throws: Never.self) { try verify(leaf, .tlsServer(named: [.dns("api.acme.internal")])).get() }
    }

    @Test("a SPIFFE ID outside the trust domain is rejected by the intermediate's name constraints")
    func nameConstraints() throws {
        let (leaf, _) = try pki.leaf(names: [.uri("spiffe://evil.example/api")])
        #expect(failureCode(verify(leaf)) == .nameConstraintViolation)
        let (dns, _) = try pki.leaf(names: [.dns("www.evil.example")])
        #expect(failureCode(verify(dns)) == .nameConstraintViolation)
    }

    @Test("names: DNS (with wildcards), IP, e-mail and URI must all be present in the leaf")
    func names() throws {
        let (leaf, _) = try pki.leaf(names: [
            .dns("*.svc.acme.internal"), .ipAddress("10.0.0.1"), .email("ops@acme.internal"),
            .uri("spiffe://acme.internal/api"),
        ])
        let good: [SubjectAlternativeName] = [
            .dns("api.svc.acme.internal"), .ipAddress("10.0.0.1"), .email("ops@acme.internal"),
            .uri("spiffe://acme.internal/api"),
        ]
        #expect(throws: Never.self) { try verify(leaf, VerificationPolicy(requiredNames: good)).get() }
        for bad: SubjectAlternativeName in [
            .dns("a.b.svc.acme.internal"), .ipAddress("10.0.0.2"), .email("x@acme.internal"),
            .uri("spiffe://acme.internal/db"),
        ] {
            #expect(failureCode(verify(leaf, VerificationPolicy(requiredNames: [bad]))) == .nameMismatch)
        }
    }

    @Test("revocation: a revoked leaf is rejected, others pass, and a CA without a CRL fails closed")
    func revocation() throws {
        let (revoked, _) = try pki.leaf(names: [.uri("spiffe://acme.internal/a")])
        let (good, _) = try pki.leaf(names: [.uri("spiffe://acme.internal/b")])
        let now = Date()
        let crl = try CertificateRevocationList.create(
            issuer: pki.intermediate, issuerKey: pki.intermediateKey, number: 1,
            thisUpdate: now.addingTimeInterval(-60),
            nextUpdate: now.addingTimeInterval(3600),
            entries: [.init(serial: revoked.serial, revocationDate: now, reasonCode: 1)])
        let rootCRL = try CertificateRevocationList.create(
            issuer: pki.root, issuerKey: pki.rootKey, number: 1, thisUpdate: now.addingTimeInterval(-60),
            nextUpdate: now.addingTimeInterval(3600), entries: [])
        #expect(failureCode(verify(revoked, VerificationPolicy(crls: [crl, rootCRL]))) == .revoked)
        #expect(throws: Never.self) { try verify(good, VerificationPolicy(crls: [crl, rootCRL])).get() }
        // The intermediate needs the root's CRL: without it the chain is refused.
        #expect(failureCode(verify(good, VerificationPolicy(crls: [crl]))) == .revocationUnknown)
        #expect(failureCode(verify(good, VerificationPolicy(crls: [rootCRL]))) == .revocationUnknown)
        // A CRL past its nextUpdate decides nothing.
        #expect(
            failureCode(verify(good, VerificationPolicy(time: now.addingTimeInterval(7200), crls: [crl, rootCRL])))
                == .revocationUnknown)
    }

    @Test("maximum intermediates counts intermediates: 0 rejects root→intermediate→leaf, 1 accepts it")
    func depth() throws {
        let (leaf, _) = try pki.leaf(names: [.uri("spiffe://acme.internal/a")])
        #expect(failureCode(verify(leaf, VerificationPolicy(maximumIntermediates: 0))) == .pathLengthExceeded)
        #expect(throws: Never.self) { try verify(leaf, VerificationPolicy(maximumIntermediates: 1)).get() }
    }

    @Test("a CA below a pathlen:0 intermediate is rejected for path length")
    func pathLength() throws {
        let subKey = try PrivateKey.generate()
        var builder = CertificateBuilder(
            subject: DistinguishedName([("CN", "Sub CA")]), publicKey: subKey.publicKey,
            notBefore: Date().addingTimeInterval(-60),
            notAfter: Date().addingTimeInterval(86_400))
        builder.basicConstraints = BasicConstraints(isCA: true)
        builder.keyUsage = [.keyCertSign, .cRLSign]
        let sub = try builder.sign(issuer: pki.intermediate, issuerKey: pki.intermediateKey)
        let key = try PrivateKey.generate()
        var leafBuilder = CertificateBuilder(
            subject: DistinguishedName([("CN", "leaf")]), publicKey: key.publicKey,
            notBefore: Date().addingTimeInterval(-60),
            notAfter: Date().addingTimeInterval(3600))
        leafBuilder.subjectAlternativeNames = [.uri("spiffe://acme.internal/x")]
        let leaf = try leafBuilder.sign(issuer: sub, issuerKey: subKey)
        #expect(failureCode(verify(leaf, intermediates: [sub, pki.intermediate])) == .pathLengthExceeded)
    }

    @Test("hostile input: a loop of cross-signed CAs ends in a rejection, not a hang")
    func loop() throws {
        let keyA = try PrivateKey.generate()
        let keyB = try PrivateKey.generate()
        func ca(_ name: String, _ key: PrivateKey, issuer: Certificate?, issuerKey: PrivateKey)
            throws -> Certificate
        {
            var builder = CertificateBuilder(
                subject: DistinguishedName([("CN", name)]), publicKey: key.publicKey,
                notBefore: Date().addingTimeInterval(-60),
                notAfter: Date().addingTimeInterval(86_400))
            builder.basicConstraints = BasicConstraints(isCA: true)
            builder.keyUsage = [.keyCertSign]
            return try builder.sign(issuer: issuer, issuerKey: issuerKey)
        }
        let selfA = try ca("A", keyA, issuer: nil, issuerKey: keyA)
        let selfB = try ca("B", keyB, issuer: nil, issuerKey: keyB)
        let aByB = try ca("A", keyA, issuer: selfB, issuerKey: keyB)
        let bByA = try ca("B", keyB, issuer: selfA, issuerKey: keyA)
        let leafKey = try PrivateKey.generate()
        var builder = CertificateBuilder(
            subject: DistinguishedName([("CN", "victim")]), publicKey: leafKey.publicKey,
            notBefore: Date().addingTimeInterval(-60),
            notAfter: Date().addingTimeInterval(3600))
        builder.subjectAlternativeNames = [.dns("x.example")]
        let looped = try builder.sign(issuer: aByB, issuerKey: keyA)
        let result = pki.verifier.verify(leaf: looped, intermediates: [aByB, bByA, aByB, bByA])
        #expect(failureCode(result) == .unknownIssuer)
    }

    @Test("hostile input: a chain of 120 intermediates is rejected for length")
    func deepChain() throws {
        var issuer = pki.root
        var issuerKey = pki.rootKey
        var chain: [Certificate] = []
        for index in 0..<120 {
            let key = try PrivateKey.generate()
            var builder = CertificateBuilder(
                subject: DistinguishedName([("CN", "deep \(index)")]), publicKey: key.publicKey,
                notBefore: Date().addingTimeInterval(-60), notAfter: Date().addingTimeInterval(86_400))
            builder.basicConstraints = BasicConstraints(isCA: true)
            builder.keyUsage = [.keyCertSign]
            let certificate = try builder.sign(issuer: issuer, issuerKey: issuerKey)
            chain.insert(certificate, at: 0)
            issuer = certificate
            issuerKey = key
        }
        let key = try PrivateKey.generate()
        let leaf = try CertificateBuilder(
            subject: DistinguishedName([("CN", "leaf")]), publicKey: key.publicKey,
            notBefore: Date().addingTimeInterval(-60),
            notAfter: Date().addingTimeInterval(3600)
        ).sign(issuer: issuer, issuerKey: issuerKey)
        let code = failureCode(pki.verifier.verify(leaf: leaf, intermediates: chain))
        #expect(code == .pathLengthExceeded)
    }

    @Test("hostile input: huge subject names parse and verify without trouble")
    func hugeNames() throws {
        let key = try PrivateKey.generate()
        let attributes = (0..<500).map { ("OU", String(repeating: "x", count: 60) + "\($0)") }
        var builder = CertificateBuilder(
            subject: DistinguishedName(attributes), publicKey: key.publicKey, notBefore: Date().addingTimeInterval(-60),
            notAfter: Date().addingTimeInterval(3600))
        builder.subjectAlternativeNames = [.uri("spiffe://acme.internal/huge")]
        let leaf = try builder.sign(issuer: pki.intermediate, issuerKey: pki.intermediateKey)
        #expect(leaf.subject.values(of: "OU").count == 500)
        #expect(throws: Never.self) { try verify(leaf).get() }
    }

    @Test("no trusted roots means nothing is accepted")
    func noRoots() throws {
        let (leaf, _) = try pki.leaf()
        let result = ChainVerifier(trustRoots: []).verify(leaf: leaf, intermediates: [pki.intermediate])
        #expect(failureCode(result) == .unknownIssuer)
    }
}

@Suite("Chain verification anchored at a verified intermediate")
struct AnchoredVerifierTests {
    let pki: FixturePKI
    let anchored: ChainVerifier
    init() throws {
        pki = try FixturePKI()
        anchored = try pki.verifier.anchored(at: pki.intermediate).get()
    }

    func code(_ result: Result<[Certificate], VerificationFailure>) -> VerificationFailure.Code? {
        if case .failure(let failure) = result { return failure.code }
        return nil
    }

    @Test("a good leaf is accepted without presenting the intermediate")
    func accepts() throws {
        let (leaf, _) = try pki.leaf(names: [.uri("spiffe://acme.internal/a")])
        #expect(try anchored.verify(leaf: leaf, policy: .tlsClient()).get() == [leaf, pki.intermediate])
    }

    @Test("the intermediate's name constraints still apply to every leaf")
    func nameConstraints() throws {
        let (leaf, _) = try pki.leaf(names: [.uri("spiffe://evil.example/a")])
        #expect(code(anchored.verify(leaf: leaf)) == .nameConstraintViolation)
    }

    @Test("a leaf naming the intermediate as issuer but signed by another key is rejected")
    func forgedSignature() throws {
        let impostor = try PrivateKey.generate()
        let key = try PrivateKey.generate()
        var builder = CertificateBuilder(
            subject: DistinguishedName([("CN", "forged")]), publicKey: key.publicKey,
            notBefore: Date().addingTimeInterval(-60),
            notAfter: Date().addingTimeInterval(3600))
        builder.subjectAlternativeNames = [.uri("spiffe://acme.internal/forged")]
        // Same issuer name and key identifier as the intermediate, wrong key: build an impostor CA certificate.
        var caBuilder = CertificateBuilder(
            subject: pki.intermediate.subject, publicKey: impostor.publicKey, notBefore: Date().addingTimeInterval(-60),
            notAfter: Date().addingTimeInterval(3600))
        caBuilder.basicConstraints = BasicConstraints(isCA: true, pathLength: 0)
        caBuilder.keyUsage = [.keyCertSign]
        let impostorCA = try caBuilder.sign(issuer: nil, issuerKey: impostor)
        let forged = try builder.sign(issuer: impostorCA, issuerKey: impostor)
        #expect(code(anchored.verify(leaf: forged)) != nil)
        #expect(code(pki.verifier.verify(leaf: forged, intermediates: [pki.intermediate])) != nil)
    }

    @Test("after the issuing chain expires nothing is accepted; an intermediate from elsewhere cannot be anchored")
    func expiryAndForeignIntermediate() throws {
        let (leaf, _) = try pki.leaf(
            names: [.uri("spiffe://acme.internal/a")], notAfter: Date().addingTimeInterval(20 * 365 * 86_400))
        #expect(
            code(
                anchored.verify(
                    leaf: leaf, policy: VerificationPolicy(time: Date().addingTimeInterval(2 * 365 * 86_400))))
                == .expired)
        let other = try FixturePKI()
        #expect(throws: VerificationFailure.self) { try pki.verifier.anchored(at: other.intermediate).get() }
    }
}
