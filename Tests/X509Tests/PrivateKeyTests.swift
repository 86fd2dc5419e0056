import Foundation
import TestSupport
import Testing
import X509

@Suite("Private keys")
struct PrivateKeyTests {
    @Test(
        "every supported algorithm generates a key that survives a PEM round trip",
        arguments: [
            "ec-p256", "ec-p384", "ed25519", "rsa2048",
        ])
    func roundTrip(name: String) throws {
        let key = try PrivateKey.generate(KeyAlgorithm(name: name))
        let pem = try key.pemEncoded()
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let parsed = try PrivateKey(pemEncoded: pem)
        #expect(parsed.publicKey == key.publicKey)
    }

    @Test("key descriptions name the algorithm and size")
    func descriptions() throws {
        #expect(try PrivateKey.generate(.ecdsaP256).publicKey.description == "ECDSA P-256")
        #expect(try PrivateKey.generate(.ecdsaP384).publicKey.description == "ECDSA P-384")
        #expect(try PrivateKey.generate(.ed25519).publicKey.description == "Ed25519")
        #expect(try PrivateKey.generate(.rsa(bits: 3072)).publicKey.description == "RSA 3072")
    }

    @Test("RSA sizes outside 2048–4096 and unknown names are refused")
    func badAlgorithms() {
        #expect(throws: X509Error.self) { try KeyAlgorithm.rsa(bits: 1024) }
        #expect(throws: X509Error.self) { try KeyAlgorithm(name: "dsa") }
    }

    @Test("an encrypted key opens with its passphrase and refuses a wrong or missing one")
    func encrypted() throws {
        let key = try PrivateKey.generate()
        let pem = try key.encryptedPEM(passphrase: "correct horse", iterations: 1000)
        #expect(pem.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        #expect(try PrivateKey(pemEncoded: pem, passphrase: "correct horse").publicKey == key.publicKey)
        let wrong = #expect(throws: X509Error.self) { try PrivateKey(pemEncoded: pem, passphrase: "wrong") }
        #expect(wrong?.code == .wrongPassphrase)
        let missing = #expect(throws: X509Error.self) { try PrivateKey(pemEncoded: pem) }
        #expect(missing?.code == .passphraseRequired)
    }

    @Test("encrypted keys use PBKDF2-HMAC-SHA256 with AES-256-CBC, readable by openssl")
    func encryptedFormatIsStandard() throws {
        guard ProcessRunner.isAvailable("openssl") else { return }
        let directory = TemporaryDirectory()
        let key = try PrivateKey.generate()
        let file = try directory.write("key.pem", try key.encryptedPEM(passphrase: "passphrase-1"))
        let info = try ProcessRunner.run("openssl", ["asn1parse", "-in", file])
        #expect(info.stdout.contains("PBES2"))
        #expect(info.stdout.contains("PBKDF2"))
        #expect(info.stdout.contains("hmacWithSHA256"))
        #expect(info.stdout.contains("aes-256-cbc"))
        let opened = try ProcessRunner.run("openssl", ["pkey", "-in", file, "-passin", "pass:passphrase-1", "-noout"])
        #expect(opened.status == 0, "\(opened)")
    }

    @Test("the SPKI pin is base64 SHA-256 of the DER public key, as openssl computes it")
    func spkiPin() throws {
        guard ProcessRunner.isAvailable("openssl") else { return }
        let directory = TemporaryDirectory()
        let key = try PrivateKey.generate()
        let file = try directory.write("key.pem", try key.pemEncoded())
        let result = try ProcessRunner.run(
            "/bin/sh",
            ["-c", "openssl pkey -in '\(file)' -pubout -outform DER | openssl dgst -sha256 -binary | base64"])
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == key.publicKey.spkiSHA256Pin)
    }

    @Test("malformed key input is refused with a message")
    func malformed() {
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        let error = #expect(throws: X509Error.self) { try PrivateKey(pemEncoded: garbage) }
        #expect(error?.code == .malformedInput)
        #expect(throws: X509Error.self) { try PrivateKey(pemEncoded: "hello") }
    }
}
