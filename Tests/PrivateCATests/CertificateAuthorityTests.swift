import Foundation
import TestSupport
import Testing
import X509

@testable import PrivateCA

/// A fresh CA in a temporary directory (kept alive with the authority).
struct TestCA {
    let directory: TemporaryDirectory
    let authority: CertificateAuthority
    static let passphrase = "test-root-passphrase"

    init(dnsConstraints: [String] = ["acme.internal"], profilesJSON: String? = nil) throws {
        directory = TemporaryDirectory("symbolon-ca")
        if let profilesJSON { try directory.write("profiles.json", profilesJSON) }
        authority = try CertificateAuthority.initialize(
            directory: CADirectory(path: directory.path),
            configuration: CAConfiguration(name: "Acme", trustDomain: "acme.internal", dnsConstraints: dnsConstraints),
            rootPassphrase: TestCA.passphrase)
    }

    func count() throws -> Int { try authority.store.certificates(matching: InventoryFilter()).count }
}

@Suite("Certificate authority")
struct CertificateAuthorityTests {
    @Test("init creates a root and an intermediate constrained to the trust domain, with the root key encrypted")
    func initialize() throws {
        let ca = try TestCA()
        let authority = ca.authority
        #expect(authority.root.isSelfSigned)
        #expect(authority.root.basicConstraints?.isCA == true)
        #expect(authority.intermediate.basicConstraints == BasicConstraints(isCA: true, pathLength: 0))
        #expect(authority.intermediate.nameConstraints?.permitted == [.uri("acme.internal"), .dns("acme.internal")])
        #expect(authority.intermediate.keyUsage?.contains(.keyCertSign) == true)
        let lifetime = authority.root.notAfter.timeIntervalSince(authority.root.notBefore)
        #expect(abs(lifetime - (10 * 365 * 86_400 + 60)) < 5)
        let rootKey = try String(contentsOfFile: authority.directory.rootKey, encoding: .utf8)
        #expect(rootKey.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        #expect(try authority.loadRootKey(passphrase: TestCA.passphrase).matches(authority.root.publicKey))
        let attributes = try FileManager.default.attributesOfItem(atPath: authority.directory.intermediateKey)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try authority.store.auditEvents(limit: nil).map(\.action) == ["ca.init"])
        #expect(ca.directory.listing().allSatisfy { !$0.hasPrefix(".init-") })
    }

    @Test("init refuses to overwrite an existing CA and leaves it untouched")
    func initTwice() throws {
        let ca = try TestCA()
        let before = try Data(contentsOf: URL(fileURLWithPath: ca.authority.directory.rootCertificate))
        let error = #expect(throws: CAError.self) {
            try CertificateAuthority.initialize(
                directory: ca.authority.directory,
                configuration: CAConfiguration(name: "Other", trustDomain: "other.internal"),
                rootPassphrase: "another-passphrase")
        }
        #expect(error?.code == .alreadyInitialized)
        #expect(try Data(contentsOf: URL(fileURLWithPath: ca.authority.directory.rootCertificate)) == before)
    }

    @Test("init refuses a bad trust domain, a short passphrase or a wildcard DNS constraint, writing nothing")
    func initBadInput() throws {
        let directory = TemporaryDirectory()
        let target = CADirectory(path: directory.file("ca"))
        for (configuration, passphrase) in [
            (CAConfiguration(name: "Acme", trustDomain: "Acme.Internal"), "long-enough-pass"),
            (CAConfiguration(name: "Acme", trustDomain: "acme.internal"), "short"),
            (
                CAConfiguration(name: "Acme", trustDomain: "acme.internal", dnsConstraints: ["*.acme.internal"]),
                "long-enough-pass"
            ),
            (CAConfiguration(name: "", trustDomain: "acme.internal"), "long-enough-pass"),
        ] {
            #expect(throws: CAError.self) {
                try CertificateAuthority.initialize(
                    directory: target, configuration: configuration, rootPassphrase: passphrase)
            }
            #expect(!FileManager.default.fileExists(atPath: target.path))
        }
    }

    @Test(
        "each built-in profile issues a certificate with its usages, and records it",
        arguments: [
            (
                "service", IssuanceRequest(profile: "service", spiffeID: "spiffe://acme.internal/ns/a/sa/api"),
                [ExtendedKeyUsage.serverAuth, .clientAuth]
            ),
            (
                "server",
                IssuanceRequest(profile: "server", dnsNames: ["www.acme.internal"], ipAddresses: ["10.0.0.1"]),
                [.serverAuth]
            ),
            ("client", IssuanceRequest(profile: "client", commonName: "batch-job"), [.clientAuth]),
            (
                "user", IssuanceRequest(profile: "user", commonName: "Alice Smith", email: "alice@acme.com"),
                [.clientAuth]
            ),
            ("device", IssuanceRequest(profile: "device", deviceSerial: "SN-0001"), [.clientAuth]),
        ])
    func profiles(name: String, request: IssuanceRequest, usages: [ExtendedKeyUsage]) throws {
        let ca = try TestCA()
        let now = Date()
        let issued = try ca.authority.issue(request, now: now)
        let certificate = issued.certificate
        #expect(certificate.extendedKeyUsage == usages)
        #expect(certificate.keyUsage == [.digitalSignature])
        #expect(certificate.basicConstraints == BasicConstraints(isCA: false))
        #expect(issued.privateKey?.matches(certificate.publicKey) == true)
        #expect(abs(certificate.notBefore.timeIntervalSince(now) + 60) < 1.5)  // backdated one minute
        #expect(try ca.authority.store.certificate(serial: certificate.serial)?.profile == name)
        #expect(issued.chain == [ca.authority.intermediate])
        if name == "device" { #expect(certificate.subject["serialNumber"] == "SN-0001") }
        if name == "user" { #expect(certificate.subjectAlternativeNames == [.email("alice@acme.com")]) }
    }

    @Test("service certificates issued together do not all expire together (jitter), and never exceed the lifetime")
    func jitter() throws {
        let ca = try TestCA()
        let now = Date()
        let issued = try ca.authority.issue(
            (0..<20).map { IssuanceRequest(profile: "service", spiffeID: "spiffe://acme.internal/w/\($0)") }, now: now)
        let expiries = Set(issued.map(\.certificate.notAfter))
        #expect(expiries.count > 10)
        for certificate in issued.map(\.certificate) {
            let lifetime = certificate.notAfter.timeIntervalSince(now)
            #expect(lifetime <= 86_400 && lifetime >= 0.9 * 86_400 - 1)
        }
        #expect(try ca.count() == 20)
        #expect(Set(issued.map(\.certificate.serial)).count == 20)
    }

    @Test(
        "requests outside the profile or the trust domain are refused with the reason, and nothing is recorded",
        arguments: [
            (IssuanceRequest(profile: "service"), "SPIFFE ID is required"),
            (
                IssuanceRequest(profile: "service", spiffeID: "spiffe://evil.example/x"),
                "outside this CA's trust domain"
            ),
            (IssuanceRequest(profile: "service", spiffeID: "spiffe://acme.internal/x?y"), "query"),
            (
                IssuanceRequest(profile: "service", spiffeID: "spiffe://acme.internal/x", email: "a@b.c"),
                "email names are not allowed"
            ),
            (
                IssuanceRequest(profile: "service", spiffeID: "spiffe://acme.internal/x", lifetime: 30 * 86_400),
                "exceeds the profile's maximum of 7d"
            ),
            (IssuanceRequest(profile: "server", dnsNames: ["www.evil.example"]), "outside this CA's DNS constraints"),
            (IssuanceRequest(profile: "server"), "a name is required"),
            (IssuanceRequest(profile: "server", dnsNames: ["bad_name.acme.internal"]), "not a valid DNS name"),
            (IssuanceRequest(profile: "user", email: "alice@acme.com"), "common name is required"),
            (IssuanceRequest(profile: "user", commonName: "Alice"), "a name is required"),
            (IssuanceRequest(profile: "device"), "device serial is required"),
            (IssuanceRequest(profile: "nope"), "unknown profile"),
        ])
    func refusals(request: IssuanceRequest, expected: String) throws {
        let ca = try TestCA()
        do {
            _ = try ca.authority.issue(request)
            Issue.record("issued, expected a refusal containing \"\(expected)\"")
        } catch {
            #expect("\(error)".contains(expected), "got: \(error)")
        }
        #expect(try ca.count() == 0)
        #expect(try ca.authority.store.auditEvents(limit: nil).count == 1)
    }

    @Test("a CSR is certified with its own names; a CSR whose signature fails is refused")
    func csr() throws {
        let ca = try TestCA()
        let key = try PrivateKey.generate()
        let csr = try CertificateSigningRequest.create(
            subject: DistinguishedName([("CN", "web")]), subjectAlternativeNames: [.dns("web.acme.internal")], key: key)
        let issued = try ca.authority.issue(IssuanceRequest(profile: "server", keySource: .csr(csr)))
        #expect(issued.certificate.publicKey == key.publicKey)
        #expect(issued.certificate.dnsNames == ["web.acme.internal"])
        #expect(issued.privateKey == nil)
        var der = csr.der
        der[der.count - 3] ^= 0x01
        let tampered = try CertificateSigningRequest(der: der)
        let error = #expect(throws: X509Error.self) {
            try ca.authority.issue(IssuanceRequest(profile: "server", keySource: .csr(tampered)))
        }
        #expect(error?.code == .badSignature)
        #expect(try ca.count() == 1)
    }

    @Test("revocation: unknown and repeated serials are refused; serials are matched in any common spelling")
    func revocation() throws {
        let ca = try TestCA()
        let issued = try ca.authority.issue(IssuanceRequest(profile: "client", commonName: "job"))
        let serial = issued.certificate.serial
        let colons = stride(from: 0, to: serial.count, by: 2).map {
            String(serial.dropFirst($0).prefix(2)).uppercased()
        }.joined(separator: ":")
        #expect(throws: StoreError.self) { try ca.authority.revoke(serial: "0x1234") }
        let record = try ca.authority.revoke(serial: colons, reason: .keyCompromise)
        #expect(record.revocation?.reason == .keyCompromise)
        let again = #expect(throws: StoreError.self) { try ca.authority.revoke(serial: serial) }
        #expect(again?.code == .alreadyRevoked)
        #expect(try CertificateAuthority.canonicalSerial("00:0A:bc") == "0abc")
        #expect(throws: CAError.self) { try CertificateAuthority.canonicalSerial("xyz") }
    }

    @Test("CRLs list revoked certificates, verify with their issuer, and their numbers only grow")
    func crls() throws {
        let ca = try TestCA()
        let revoked = try ca.authority.issue(IssuanceRequest(profile: "client", commonName: "a"))
        let kept = try ca.authority.issue(IssuanceRequest(profile: "client", commonName: "b"))
        try ca.authority.revoke(serial: revoked.certificate.serial, reason: .superseded)
        let first = try ca.authority.publishCRL()
        let second = try ca.authority.publishCRL()
        #expect(first.number == 1 && second.number == 2)
        #expect(second.entry(serial: revoked.certificate.serial)?.reasonCode == RevocationReason.superseded.code)
        #expect(second.entry(serial: kept.certificate.serial) == nil)
        #expect(second.isSigned(by: ca.authority.intermediate))
        let root = try ca.authority.publishRootCRL(rootKey: ca.authority.loadRootKey(passphrase: TestCA.passphrase))
        #expect(root.number == 1 && root.entries.isEmpty && root.isSigned(by: ca.authority.root))
        let policy = VerificationPolicy(purpose: .client, crls: [second, root])
        let verifier = ChainVerifier(trustRoots: [ca.authority.root])
        if case .failure(let failure) = verifier.verify(
            leaf: revoked.certificate, intermediates: [ca.authority.intermediate], policy: policy)
        {
            #expect(failure.code == .revoked)
        } else {
            Issue.record("a revoked certificate was accepted")
        }
        #expect(throws: Never.self) {
            try verifier.verify(leaf: kept.certificate, intermediates: [ca.authority.intermediate], policy: policy)
                .get()
        }
    }

    @Test("a wrong root passphrase is refused")
    func wrongPassphrase() throws {
        let ca = try TestCA()
        let error = #expect(throws: X509Error.self) { try ca.authority.loadRootKey(passphrase: "wrong-passphrase") }
        #expect(error?.code == .wrongPassphrase)
    }

    @Test("the offline root: export checks the passphrase, remove checks the copy, then the root CRL needs the copy")
    func offlineRoot() throws {
        let ca = try TestCA()
        let copy = ca.directory.file("root-key-backup.pem")
        #expect(throws: X509Error.self) { try ca.authority.exportRootKey(to: copy, passphrase: "wrong-passphrase") }
        #expect(!FileManager.default.fileExists(atPath: copy))
        try ca.authority.exportRootKey(to: copy, passphrase: TestCA.passphrase)
        // Export never overwrites an existing file.
        #expect(throws: X509Error.self) { try ca.authority.exportRootKey(to: copy, passphrase: TestCA.passphrase) }
        try ca.authority.removeRootKey(exportedCopy: copy, passphrase: TestCA.passphrase)
        #expect(!FileManager.default.fileExists(atPath: ca.authority.directory.rootKey))
        let offline = #expect(throws: CAError.self) { try ca.authority.loadRootKey(passphrase: TestCA.passphrase) }
        #expect(offline?.code == .rootKeyOffline)
        let key = try ca.authority.loadRootKey(passphrase: TestCA.passphrase, file: copy)
        #expect(try ca.authority.publishRootCRL(rootKey: key).isSigned(by: ca.authority.root))
        #expect(
            try ca.authority.store.auditEvents(limit: nil).map(\.action) == [
                "ca.init", "root-key.export", "root-key.remove", "crl.publish",
            ])
    }

    @Test("the inventory alerts on certificates, CA certificates and CRLs inside the threshold")
    func inventory() throws {
        let ca = try TestCA()
        let now = Date()
        _ = try ca.authority.issue(IssuanceRequest(profile: "service", spiffeID: "spiffe://acme.internal/a"), now: now)
        _ = try ca.authority.issue(IssuanceRequest(profile: "user", commonName: "A", email: "a@acme.com"), now: now)
        let quiet = try ca.authority.inventory(now: now)
        #expect(quiet.certificates.count == 2 && quiet.alerts.isEmpty)
        let soon = try ca.authority.inventory(threshold: 72 * 3600, now: now)
        #expect(soon.certificates.map(\.profile) == ["service"])
        #expect(soon.alerts.contains { $0.contains("no CRL") })
        #expect(soon.alerts.contains { $0.contains("spiffe://acme.internal/a") })
        _ = try ca.authority.publishCRL(now: now)
        let late = try ca.authority.inventory(threshold: 400 * 86_400, now: now)
        #expect(late.alerts.contains { $0.contains("intermediate CA certificate") })
        #expect(try ca.authority.inventory(filter: InventoryFilter(profile: "user"), now: now).certificates.count == 1)
    }

    @Test("custom profiles from profiles.json are used, and a bad one is refused with its field named")
    func customProfiles() throws {
        let json = """
            [{"name": "batch", "summary": "batch jobs", "keyUsage": ["digitalSignature"], "extendedKeyUsage": ["clientAuth"],
              "allowedNames": ["spiffe"], "requiredNames": ["spiffe"], "requiresCommonName": false,
              "requiresDeviceSerial": false, "defaultLifetime": 3600, "maximumLifetime": 7200, "expiryJitter": 0}]
            """
        let ca = try TestCA(profilesJSON: json)
        let reopened = try CertificateAuthority.open(directory: ca.authority.directory)
        let issued = try reopened.issue(IssuanceRequest(profile: "batch", spiffeID: "spiffe://acme.internal/batch"))
        #expect(issued.certificate.extendedKeyUsage == [.clientAuth])
        #expect(throws: CAError.self) {
            try reopened.issue(
                IssuanceRequest(profile: "batch", spiffeID: "spiffe://acme.internal/batch", lifetime: 3 * 3600))
        }
        try ca.directory.write("profiles.json", json.replacingOccurrences(of: "clientAuth", with: "teleport"))
        let error = #expect(throws: CAError.self) { try CertificateAuthority.open(directory: ca.authority.directory) }
        #expect(error?.reason.contains("teleport") == true)
    }
}

@Suite("Certificate authority: commit and configuration")
struct CertificateAuthorityCommitTests {
    struct StagingFailed: Error {}

    @Test("when the caller's pre-commit step fails, nothing is recorded")
    func beforeCommitFailure() throws {
        let ca = try TestCA()
        #expect(throws: StagingFailed.self) {
            try ca.authority.issue(IssuanceRequest(profile: "client", commonName: "x")) { _ in throw StagingFailed() }
        }
        #expect(try ca.count() == 0)
        #expect(try ca.authority.store.auditEvents(limit: nil).map(\.action) == ["ca.init"])
    }

    @Test("CRL distribution point and OCSP URLs from the configuration are written into issued certificates")
    func urls() throws {
        let directory = TemporaryDirectory()
        let authority = try CertificateAuthority.initialize(
            directory: CADirectory(path: directory.path),
            configuration: CAConfiguration(
                name: "Acme", trustDomain: "acme.internal", crlURL: "http://ca.acme.internal/crl.pem",
                ocspURL: "http://ca.acme.internal/ocsp"),
            rootPassphrase: TestCA.passphrase)
        let issued = try authority.issue(IssuanceRequest(profile: "client", commonName: "x"))
        #expect(issued.certificate.crlDistributionPoints == ["http://ca.acme.internal/crl.pem"])
        #expect(issued.certificate.ocspURLs == ["http://ca.acme.internal/ocsp"])
    }
}
