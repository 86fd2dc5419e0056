import Foundation
import TestSupport
import Testing

/// A user certificate exported with `symbolon export p12`, once for the suite.
struct PKCS12Fixture: Sendable {
    static let bundlePassphrase = "p12 bundle passphrase"
    let ca: TestCA
    let user: IssuedLeaf
    let bundle: String
    let passphraseFile: String
    let export: ProcessResult

    init() throws {
        ca = try TestCA(label: "p12")
        user = try ca.issue("user", ["--cn", "Alice Smith", "--email", "alice@acme.com"], as: "alice")
        passphraseFile = try ca.temp.write("p12-pass.txt", Self.bundlePassphrase + "\n")
        bundle = ca.file("alice.p12")
        export = try E2E.symbolon([
            "export", "p12", "--cert", user.cert, "--key", user.key, "--chain", ca.root, "--name", "Alice Smith (work)",
            "--out", bundle, "--passphrase-file", passphraseFile,
        ])
    }
}

@Suite("PKCS#12: export p12 bundles that openssl and NSS (pk12util) open")
struct PKCS12EndToEndTests {
    static let shared = Result { try PKCS12Fixture() }

    @Test("export p12 succeeds and writes the bundle with mode 0600")
    func exportWritesBundle() throws {
        let f = try Self.shared.get()
        #expect(f.export.status == 0, "\(f.export)")
        #expect(E2E.exists(f.bundle))
        #expect(E2E.mode(f.bundle) == 0o600)
    }

    @Test(
        "openssl pkcs12 -info opens the bundle with the passphrase, and -nokeys shows the user, intermediate and root certificates"
    )
    func opensslOpensBundle() throws {
        let f = try Self.shared.get()
        let info = try E2E.openssl([
            "pkcs12", "-info", "-in", f.bundle, "-passin", "file:\(f.passphraseFile)", "-noout",
        ])
        #expect(info.status == 0, "\(info)")
        #expect(!info.output.contains("invalid password"), "\(info)")
        let certs = try E2E.openssl(["pkcs12", "-in", f.bundle, "-passin", "file:\(f.passphraseFile)", "-nokeys"])
        #expect(certs.status == 0, "\(certs)")
        #expect(certs.stdout.contains("subject=O = Acme, CN = Alice Smith"), "\(certs.stdout)")
        #expect(certs.stdout.contains("friendlyName: Alice Smith (work)"), "\(certs.stdout)")
        #expect(certs.stdout.contains("subject=O = Acme, CN = Acme Intermediate CA"), "\(certs.stdout)")
        #expect(certs.stdout.contains("subject=O = Acme, CN = Acme Root CA"), "\(certs.stdout)")
        // The leaf inside is byte for byte the issued one.
        let inside = E2E.pemBlocks(certs.stdout).filter { $0.label == "CERTIFICATE" }.map(\.der)
        let issued = try #require(E2E.pemBlocks(E2E.read(f.user.cert)).first?.der)
        #expect(inside.contains(issued))
    }

    @Test("The private key in the bundle is the user certificate's key")
    func keyMatches() throws {
        let f = try Self.shared.get()
        let keys = try E2E.openssl([
            "pkcs12", "-in", f.bundle, "-passin", "file:\(f.passphraseFile)", "-nocerts", "-nodes",
        ])
        try #require(keys.status == 0, "\(keys)")
        let keyFile = try f.ca.temp.write("extracted-key-\(UInt32.random(in: 0...UInt32.max)).pem", keys.stdout)
        let fromBundle = try E2E.openssl(["pkey", "-in", keyFile, "-pubout"])
        let fromCert = try E2E.openssl(["x509", "-in", f.user.cert, "-noout", "-pubkey"])
        #expect(fromBundle.status == 0, "\(fromBundle)")
        #expect(!fromCert.stdout.isEmpty && fromBundle.stdout == fromCert.stdout)
    }

    @Test("openssl pkcs12 refuses a wrong passphrase")
    func wrongPassphrase() throws {
        let f = try Self.shared.get()
        let result = try E2E.openssl([
            "pkcs12", "-info", "-in", f.bundle, "-passin", "pass:not the passphrase", "-noout",
        ])
        #expect(result.status != 0, "\(result)")
        #expect(result.output.contains("invalid password") || result.output.contains("Mac verify error"), "\(result)")
    }

    @Test(
        "pk12util imports the bundle into a fresh NSS database and certutil -L lists the user certificate",
        .enabled(
            if: ProcessRunner.isAvailable("pk12util") && ProcessRunner.isAvailable("certutil"),
            "pk12util/certutil (libnss3-tools) are not installed; skipping the NSS import check"))
    func nssImport() throws {
        let f = try Self.shared.get()
        let database = TemporaryDirectory("symbolon-e2e-nss")
        let created = try ProcessRunner.run("certutil", ["-N", "-d", "sql:\(database.path)", "--empty-password"])
        try #require(created.status == 0, "\(created)")
        let imported = try ProcessRunner.run(
            "pk12util", ["-i", f.bundle, "-d", "sql:\(database.path)", "-W", PKCS12Fixture.bundlePassphrase])
        #expect(imported.status == 0, "\(imported)")
        #expect(imported.output.contains("PKCS12 IMPORT SUCCESSFUL"), "\(imported)")
        let listed = try ProcessRunner.run("certutil", ["-L", "-d", "sql:\(database.path)"])
        #expect(listed.status == 0, "\(listed)")
        let userLine = listed.stdout.components(separatedBy: "\n").first { $0.hasPrefix("Alice Smith (work)") }
        #expect(
            userLine?.hasSuffix("u,u,u") == true,
            "the user certificate with its key (u,u,u) must be listed:\n\(listed.stdout)")
        #expect(listed.stdout.contains("Acme Intermediate CA"), "\(listed.stdout)")
        // The key came along: certutil -K lists it.
        let keys = try ProcessRunner.run("certutil", ["-K", "-d", "sql:\(database.path)"])
        #expect(keys.status == 0 && keys.stdout.contains("Alice Smith (work)"), "\(keys)")
    }

    @Test(
        "pk12util refuses the bundle with a wrong passphrase",
        .enabled(
            if: ProcessRunner.isAvailable("pk12util") && ProcessRunner.isAvailable("certutil"),
            "pk12util/certutil (libnss3-tools) are not installed"))
    func nssWrongPassphrase() throws {
        let f = try Self.shared.get()
        let database = TemporaryDirectory("symbolon-e2e-nss")
        let created = try ProcessRunner.run("certutil", ["-N", "-d", "sql:\(database.path)", "--empty-password"])
        try #require(created.status == 0, "\(created)")
        let imported = try ProcessRunner.run("pk12util", ["-i", f.bundle, "-d", "sql:\(database.path)", "-W", "wrong"])
        #expect(imported.status != 0, "\(imported)")
        let listed = try ProcessRunner.run("certutil", ["-L", "-d", "sql:\(database.path)"])
        #expect(!listed.stdout.contains("Alice Smith"), "\(listed.stdout)")
    }

    @Test("export p12 refuses a key that does not belong to the certificate (exit 1) and writes no bundle")
    func mismatchedKey() throws {
        let f = try Self.shared.get()
        let other = try f.ca.issue("client", ["--cn", "someone else"], as: "someone-else")
        let out = f.ca.file("mismatch.p12")
        let result = try E2E.symbolon([
            "export", "p12", "--cert", f.user.cert, "--key", other.key, "--out", out, "--passphrase-file",
            f.passphraseFile,
        ])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("does not belong"), "\(result)")
        #expect(!E2E.exists(out))
    }
}
