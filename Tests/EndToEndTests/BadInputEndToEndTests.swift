import Foundation
import TestSupport
import Testing

/// Runs a command that must be refused and checks the refusal: the exit code, a message on stderr naming the
/// problem (every fragment, case-insensitively), no change to the CA directory or its store, and no output files.
func expectRefusal(
    _ ca: TestCA, _ arguments: [String], status: Int32 = 1, orStatus alternative: Int32? = nil,
    mentions fragments: [String],
    outputs: [String] = [], passphrase: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let before = try StoreSnapshot(of: ca)
    let result = try ca.symbolon(arguments, passphrase: passphrase)
    #expect(
        result.status == status || result.status == alternative, "\(arguments): \(result)",
        sourceLocation: sourceLocation)
    let message = result.stderr.lowercased()
    for fragment in fragments {
        #expect(
            message.contains(fragment.lowercased()), "stderr must mention \"\(fragment)\": \(result)",
            sourceLocation: sourceLocation)
    }
    let after = try StoreSnapshot(of: ca)
    #expect(after == before, "the CA changed:\nbefore: \(before)\nafter:  \(after)", sourceLocation: sourceLocation)
    for output in outputs {
        #expect(!E2E.exists(output), "\(output) must not exist after a refusal", sourceLocation: sourceLocation)
    }
}

/// Malformed PEM CSR variants.
enum MalformedCSR: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case garbage, truncated, wrongLabel, badBase64, empty
    var testDescription: String { rawValue }
}

/// Malformed SPIFFE IDs and the rule each breaks.
struct BadSPIFFEID: Sendable, CustomTestStringConvertible {
    let id: String
    let rule: String
    var testDescription: String { id }
    /// What the refusal must mention.
    var mentions: [String] { rule == "path" ? [id, "path"] : ["invalid SPIFFE ID", rule] }
    static let all: [BadSPIFFEID] = [
        BadSPIFFEID(id: "spiffe://acme.internal/api?x=1", rule: "query"),
        BadSPIFFEID(id: "SPIFFE://acme.internal/api", rule: "lowercase"),
        BadSPIFFEID(id: "spiffe://acme.internal/a//b", rule: "empty segment"),
        BadSPIFFEID(id: "spiffe://acme.internal:8443/api", rule: "port"),
        BadSPIFFEID(id: "spiffe://acme.internal/api#frag", rule: "fragment"),
        BadSPIFFEID(id: "spiffe://acme.internal/a/../b", rule: "\"..\""),
        BadSPIFFEID(id: "spiffe://user@acme.internal/api", rule: "userinfo"),
        BadSPIFFEID(id: "spiffe://Acme.Internal/api", rule: "lowercase"),
        // X509-SVID §3.1: "Leaf certificate SPIFFE IDs MUST have a non-root path component" (and §5.2: validators
        // MUST reject a leaf whose SPIFFE ID has none), so the bare trust-domain ID is no leaf identity.
        BadSPIFFEID(id: "spiffe://acme.internal", rule: "path"),
    ]
}

@Suite("Bad input: refused with a message, a non-zero exit and no change to the CA")
struct BadInputEndToEndTests {
    static func csrText(_ variant: MalformedCSR, valid: String) -> String {
        switch variant {
        case .garbage: return "this is not a certificate request\n\u{1}\u{2}\u{3}\n"
        case .truncated:
            let lines = valid.components(separatedBy: "\n")
            return lines.prefix(lines.count / 2).joined(separator: "\n") + "\n"
        case .wrongLabel: return valid.replacingOccurrences(of: "CERTIFICATE REQUEST", with: "PUBLIC KEY")
        case .badBase64:
            return "-----BEGIN CERTIFICATE REQUEST-----\n!!!!not*base64!!!!\n-----END CERTIFICATE REQUEST-----\n"
        case .empty: return ""
        }
    }

    static func makeCSR(
        _ ca: TestCA, name: String, subject: String = "/CN=www.acme.com", san: String = "DNS:www.acme.com"
    ) throws
        -> String
    {
        let key = ca.file(name + "-key.pem")
        let csr = ca.file(name + ".csr")
        let made = try E2E.openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-subj", subject, "-addext", "subjectAltName=\(san)", "-out", csr,
        ])
        guard made.status == 0 else { throw SetupError("openssl req failed: \(made)") }
        return csr
    }

    @Test(
        "A malformed PEM CSR is refused with a message naming the file and the PEM problem",
        arguments: MalformedCSR.allCases)
    func malformedCSR(_ variant: MalformedCSR) throws {
        let ca = try TestCA(label: "bad-csr")
        let valid = E2E.read(try Self.makeCSR(ca, name: "valid"))
        let file = try ca.temp.write("bad.csr", Self.csrText(variant, valid: valid))
        let out = ca.file("out.pem")
        var mentions = ["bad.csr"]
        switch variant {
        case .garbage, .empty: mentions.append("no PEM block")
        case .truncated: mentions.append("not terminated")
        case .wrongLabel: mentions.append("CERTIFICATE REQUEST")
        case .badBase64: mentions.append("base64")
        }
        try expectRefusal(
            ca, ["ca", "issue", "--profile", "server", "--csr", file, "--out-cert", out], mentions: mentions,
            outputs: [out])
    }

    @Test(
        "A CSR whose signature does not verify (one byte of the signature flipped) is refused, and the message says so")
    func csrWithBadSignature() throws {
        let ca = try TestCA(label: "bad-sig")
        let csr = try Self.makeCSR(ca, name: "tampered")
        // Control: the untouched CSR is accepted (in another CA, so this one stays pristine).
        let control = try TestCA(label: "bad-sig-control")
        let accepted = try control.symbolon([
            "ca", "issue", "--profile", "server", "--csr", csr, "--out-cert", control.file("ok.pem"),
        ])
        try #require(accepted.status == 0, "the untouched CSR must be accepted: \(accepted)")

        var der = try #require(E2E.pemBlocks(E2E.read(csr)).first?.der)
        // The signature is the BIT STRING at the end; byte -5 is inside the ECDSA s value, so the DER stays well formed.
        der[der.count - 5] ^= 0x01
        let tampered = try ca.temp.write("tampered-bad.csr", E2E.pem("CERTIFICATE REQUEST", der))
        let check = try E2E.openssl(["req", "-in", tampered, "-verify", "-noout"])
        #expect(
            check.status != 0 || check.output.contains("verify failure"),
            "openssl must also see a bad signature: \(check)")
        let out = ca.file("out.pem")
        try expectRefusal(
            ca, ["ca", "issue", "--profile", "server", "--csr", tampered, "--out-cert", out], mentions: ["signature"],
            outputs: [out])
    }

    @Test(
        "A CSR (used for its names) that asks for a name the CA must not certify is refused, not silently trimmed to its last URI or e-mail",
        arguments: [
            ("service", "URI:spiffe://evil.example/a,URI:spiffe://acme.internal/b", "evil.example"),
            ("service", "URI:spiffe://acme.internal/a,URI:spiffe://acme.internal/b", "spiffe"),
            ("user", "email:alice@acme.com,email:mallory@evil.example", "mail"),
        ])
    func csrNamesAreAllChecked(_ profile: String, _ names: String, _ mention: String) throws {
        let ca = try TestCA(label: "csr-names")
        let csr = try Self.makeCSR(ca, name: "names", subject: "/CN=Alice", san: names)
        let out = ca.file("out.pem")
        // The product copies each CSR URI / e-mail into a single-valued field, so only the last one is checked and
        // certified; the earlier ones vanish without a word.
        try expectRefusal(
            ca, ["ca", "issue", "--profile", profile, "--csr", csr, "--out-cert", out], mentions: [mention],
            outputs: [out])
    }

    @Test("A SPIFFE ID outside the trust domain is refused, naming the trust domain")
    func foreignSPIFFEID() throws {
        let ca = try TestCA(label: "foreign-id")
        let out = ca.file("out.pem")
        let key = ca.file("out-key.pem")
        try expectRefusal(
            ca,
            [
                "ca", "issue", "--profile", "service", "--spiffe-id", "spiffe://evil.example/x", "--out-cert", out,
                "--out-key", key,
            ],
            mentions: ["trust domain", "acme.internal"], outputs: [out, key])
    }

    @Test("A malformed SPIFFE ID is refused, naming the rule it breaks", arguments: BadSPIFFEID.all)
    func malformedSPIFFEID(_ bad: BadSPIFFEID) throws {
        let ca = try TestCA(label: "bad-id")
        let out = ca.file("out.pem")
        let key = ca.file("out-key.pem")
        try expectRefusal(
            ca, ["ca", "issue", "--profile", "service", "--spiffe-id", bad.id, "--out-cert", out, "--out-key", key],
            mentions: bad.mentions, outputs: [out, key])
    }

    @Test("A DNS name outside the CA's DNS constraints is refused")
    func dnsOutsideConstraints() throws {
        let ca = try TestCA(label: "bad-dns")
        let out = ca.file("out.pem")
        let key = ca.file("out-key.pem")
        try expectRefusal(
            ca, ["ca", "issue", "--profile", "server", "--dns", "www.evil.com", "--out-cert", out, "--out-key", key],
            mentions: ["www.evil.com", "acme.com"], outputs: [out, key])
    }

    @Test("A lifetime over the profile's cap (service, 30d > 7d) is refused, naming both")
    func lifetimeOverCap() throws {
        let ca = try TestCA(label: "lifetime")
        let out = ca.file("out.pem")
        let key = ca.file("out-key.pem")
        try expectRefusal(
            ca,
            [
                "ca", "issue", "--profile", "service", "--spiffe-id", "spiffe://acme.internal/api", "--lifetime", "30d",
                "--out-cert", out, "--out-key", key,
            ], mentions: ["30d", "7d", "maximum"], outputs: [out, key])
        // Control: at the cap it is issued.
        let ok = try ca.issue(
            "service", ["--spiffe-id", "spiffe://acme.internal/api", "--lifetime", "7d"], as: "at-cap")
        #expect(E2E.exists(ok.cert))
    }

    @Test(
        "A lifetime too large to print (9223372036854775807s) is refused like any other over-long lifetime, without crashing"
    )
    func hugeLifetime() throws {
        let ca = try TestCA(label: "huge-lifetime")
        let out = ca.file("out.pem")
        let key = ca.file("out-key.pem")
        // Either refusal is fine: the profile's cap (exit 1) or the parser (exit 2). A crash (SIGILL, 132) is not.
        try expectRefusal(
            ca,
            [
                "ca", "issue", "--profile", "service", "--spiffe-id", "spiffe://acme.internal/api", "--lifetime",
                "9223372036854775807s", "--out-cert", out, "--out-key", key,
            ], status: 1, orStatus: 2, mentions: ["lifetime"], outputs: [out, key])
    }

    @Test(
        "--out-cert and --out-key naming the same file in different spellings is refused, so the new private key is never lost"
    )
    func outputsAliasingTheSameFile() throws {
        let ca = try TestCA(label: "same-file")
        let cert = ca.file("same.pem")
        let alias = ca.work + "/./same.pem"
        // The product compares the two paths as strings; "same.pem" and "./same.pem" slip through, the key is
        // written, then replaced by the chain, and a certificate whose key nobody has is recorded as issued.
        try expectRefusal(
            ca, ["ca", "issue", "--profile", "client", "--cn", "x", "--out-cert", cert, "--out-key", alias], status: 2,
            orStatus: 1, mentions: ["--out-key", "--out-cert"], outputs: [cert])
    }

    @Test(
        "A CSR with a key weaker than the CA would generate (RSA-1024, DSA-1024) is refused, so every issued leaf passes openssl verify -auth_level 2"
    )
    func weakCSRKeys() throws {
        let ca = try TestCA(label: "weak-key")
        // The CA itself refuses to generate such keys (--key-type rsa1024: "RSA keys must be 2048 to 4096 bits").
        let generated = try ca.symbolon([
            "ca", "issue", "--profile", "client", "--cn", "x", "--key-type", "rsa1024", "--out-cert", ca.file("g.pem"),
            "--out-key", ca.file("g-key.pem"),
        ])
        #expect(generated.status == 1 && generated.stderr.contains("2048"), "\(generated)")
        let dsaParameters = ca.file("dsa-params.pem")
        let dsaKey = ca.file("dsa-key.pem")
        for step in [
            ["genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:1024", "-out", dsaParameters],
            ["genpkey", "-paramfile", dsaParameters, "-out", dsaKey],
        ] {
            let made = try E2E.openssl(step)
            try #require(made.status == 0, "\(made)")
        }
        for (name, keyArguments) in [
            ("rsa1024", ["-newkey", "rsa:1024", "-nodes", "-keyout", ca.file("rsa1024-key.pem")]),
            ("dsa1024", ["-key", dsaKey]),
        ] {
            let csr = ca.file(name + ".csr")
            let made = try E2E.openssl(["req", "-new"] + keyArguments + ["-subj", "/CN=www.acme.com", "-out", csr])
            try #require(made.status == 0, "\(made)")
            let out = ca.file(name + ".pem")
            let before = try StoreSnapshot(of: ca)
            let result = try ca.symbolon([
                "ca", "issue", "--profile", "server", "--dns", "www.acme.com", "--csr", csr, "--out-cert", out,
            ])
            if result.status == 0 {
                let strict = try E2E.openssl([
                    "verify", "-auth_level", "2", "-x509_strict", "-CAfile", ca.root, "-untrusted", ca.intermediate,
                    out,
                ])
                Issue.record(
                    "\(name): the CA certified a weak key (openssl -auth_level 2 says: \(strict.output.trimmingCharacters(in: .whitespacesAndNewlines)))"
                )
            } else {
                #expect(result.status == 1, "\(result)")
                let after = try StoreSnapshot(of: ca)
                #expect(after == before, "the CA changed:\nbefore: \(before)\nafter:  \(after)")
                #expect(!E2E.exists(out))
            }
        }
    }

    @Test(
        "A wrong root passphrase is refused by ca crl --issuer root and ca root-key export, saying 'wrong passphrase'")
    func wrongPassphrase() throws {
        let ca = try TestCA(label: "wrong-pass")
        let crl = ca.file("root-crl.pem")
        try expectRefusal(
            ca, ["ca", "crl", "--issuer", "root", "--out", crl], mentions: ["wrong passphrase"], outputs: [crl],
            passphrase: "not the passphrase")
        let wrongFile = try ca.temp.write("wrong-pass.txt", "still not the passphrase\n")
        try expectRefusal(
            ca, ["ca", "crl", "--issuer", "root", "--out", crl, "--passphrase-file", wrongFile],
            mentions: ["wrong passphrase"],
            outputs: [crl])
        let exported = ca.file("exported-root-key.pem")
        try expectRefusal(
            ca, ["ca", "root-key", "export", "--out", exported], mentions: ["wrong passphrase"], outputs: [exported],
            passphrase: "not the passphrase")
        // Control: the right passphrase works for both.
        #expect(
            try ca.symbolon(["ca", "crl", "--issuer", "root", "--out", crl], passphrase: E2E.passphrase).status == 0)
        #expect(
            try ca.symbolon(["ca", "root-key", "export", "--out", exported], passphrase: E2E.passphrase).status == 0)
    }

    @Test("Revoking an unknown serial is refused, naming the serial, and records nothing")
    func unknownSerial() throws {
        let ca = try TestCA(label: "unknown-serial")
        _ = try ca.issue("client", ["--cn", "known"], as: "known")
        try expectRefusal(ca, ["ca", "revoke", "--serial", "0DEADBEEF0"], mentions: ["deadbeef", "no certificate"])
        try expectRefusal(ca, ["ca", "revoke", "--serial", "not-hex"], mentions: ["hexadecimal"])
    }

    @Test("ca init over an existing CA is refused and leaves every file byte-identical")
    func initOverExisting() throws {
        let ca = try TestCA(label: "reinit")
        _ = try ca.issue("client", ["--cn", "existing"], as: "existing")
        try expectRefusal(
            ca,
            ["ca", "init", "--name", "Evil", "--trust-domain", "evil.example", "--passphrase-file", ca.passphraseFile],
            mentions: ["already exists"])
        // Also when only part of a CA is there (the root key alone).
        let partial = TemporaryDirectory("symbolon-e2e-partial")
        try FileManager.default.createDirectory(atPath: partial.path + "/ca", withIntermediateDirectories: false)
        try "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
            .write(toFile: partial.path + "/ca/root-key.pem", atomically: true, encoding: .utf8)
        let onPartial = try E2E.symbolon(
            ["ca", "init", "--dir", partial.path + "/ca", "--name", "X", "--trust-domain", "x.internal"],
            passphrase: E2E.passphrase)
        #expect(onPartial.status == 1, "\(onPartial)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: partial.path + "/ca") == ["root-key.pem"])
    }

    @Test("ca issue with an unknown profile is refused (exit 1) listing the known profiles")
    func unknownProfile() throws {
        let ca = try TestCA(label: "unknown-profile")
        let out = ca.file("out.pem")
        let key = ca.file("out-key.pem")
        try expectRefusal(
            ca, ["ca", "issue", "--profile", "superuser", "--cn", "x", "--out-cert", out, "--out-key", key],
            mentions: ["unknown profile", "superuser", "service"], outputs: [out, key])
    }

    @Test("ca issue without --csr and without --out-key is a usage error (exit 2) asking for --out-key")
    func missingOutKey() throws {
        let ca = try TestCA(label: "usage")
        let out = ca.file("out.pem")
        try expectRefusal(
            ca, ["ca", "issue", "--profile", "client", "--cn", "x", "--out-cert", out], status: 2,
            mentions: ["--out-key"],
            outputs: [out])
    }

    /// Whether `chattr` works here (it needs CAP_LINUX_IMMUTABLE and a file system with the flag, e.g. ext4).
    static let chattrWorks: Bool = {
        let probe = TemporaryDirectory("symbolon-e2e-chattr")
        defer { _ = try? ProcessRunner.run("chattr", ["-i", probe.path]) }
        return (try? ProcessRunner.run("chattr", ["+i", probe.path]).status) == 0
    }()

    @Test(
        "On a read-only store (chattr +i), ca issue, ca revoke and ca crl fail with 'read-only' and change nothing",
        .enabled(if: chattrWorks, "chattr +i does not work here (not root, or the file system lacks the flag)"))
    func readOnlyStoreImmutable() throws {
        let ca = try TestCA(label: "immutable")
        let leaf = try ca.issue("client", ["--cn", "existing"], as: "existing")
        let before = try StoreSnapshot(of: ca)
        let files = try FileManager.default.contentsOfDirectory(atPath: ca.dir).map { ca.dir + "/" + $0 }
        let locked = try ProcessRunner.run("chattr", ["+i", ca.dir] + files)
        try #require(locked.status == 0, "\(locked)")
        var results: [(String, ProcessResult)] = []
        do {
            defer { _ = try? ProcessRunner.run("chattr", ["-i", ca.dir] + files) }
            results.append(
                (
                    "issue",
                    try ca.symbolon([
                        "ca", "issue", "--profile", "client", "--cn", "new", "--out-cert", ca.file("new.pem"),
                        "--out-key", ca.file("new-key.pem"),
                    ])
                ))
            results.append(("revoke", try ca.symbolon(["ca", "revoke", "--serial", leaf.serial])))
            results.append(("crl", try ca.symbolon(["ca", "crl", "--out", ca.file("crl.pem")])))
            // Reading still works.
            let list = try ca.symbolon(["ca", "list"])
            #expect(list.status == 0 && list.stdout.contains(leaf.serial), "ca list on a read-only store: \(list)")
        }
        for (what, result) in results {
            #expect(result.status == 1, "\(what): \(result)")
            #expect(result.stderr.contains("read-only"), "\(what) must say read-only: \(result)")
        }
        let after = try StoreSnapshot(of: ca)
        #expect(after == before, "the CA changed:\nbefore: \(before)\nafter:  \(after)")
        for name in ["new.pem", "new-key.pem", "crl.pem"] { #expect(!E2E.exists(ca.file(name)), "\(name)") }
    }

    static let setprivWorks: Bool = {
        (try? ProcessRunner.run("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "/bin/true"]).status)
            == 0
            && geteuid() == 0
    }()

    @Test(
        "On a read-only store (owned by nobody, chmod a-w, run as nobody), ca issue and ca revoke fail with 'read-only' and change nothing",
        .enabled(if: setprivWorks, "setpriv to user nobody is not possible here (needs root)"))
    func readOnlyStoreAsNobody() throws {
        let ca = try TestCA(label: "nobody")
        let leaf = try ca.issue("client", ["--cn", "existing"], as: "existing")
        let before = try StoreSnapshot(of: ca)
        let outputs = ca.file("out")
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: false)
        let prepared = try E2E.sh(
            "chmod 755 \(E2E.quote(ca.work)) && chmod 777 \(E2E.quote(outputs)) && chown -R nobody:nogroup \(E2E.quote(ca.dir)) "
                + "&& chmod -R a-w \(E2E.quote(ca.dir))")
        try #require(prepared.status == 0, "\(prepared)")
        func asNobody(_ arguments: [String]) throws -> ProcessResult {
            try ProcessRunner.run(
                "setpriv",
                ["--reuid=nobody", "--regid=nogroup", "--clear-groups", ProcessRunner.symbolonPath] + arguments + [
                    "--dir", ca.dir,
                ])
        }
        // The intermediate key stays readable by nobody: listing works, so the refusals below are about writing.
        let list = try asNobody(["ca", "list"])
        #expect(list.status == 0 && list.stdout.contains(leaf.serial), "\(list)")
        let issue = try asNobody([
            "ca", "issue", "--profile", "client", "--cn", "new", "--out-cert", outputs + "/new.pem", "--out-key",
            outputs + "/new-key.pem",
        ])
        let revoke = try asNobody(["ca", "revoke", "--serial", leaf.serial])
        for (what, result) in [("issue", issue), ("revoke", revoke)] {
            #expect(result.status == 1, "\(what): \(result)")
            #expect(result.stderr.contains("read-only"), "\(what) must say read-only: \(result)")
        }
        let after = try StoreSnapshot(of: ca)
        #expect(after == before, "the CA changed:\nbefore: \(before)\nafter:  \(after)")
        #expect(!E2E.exists(outputs + "/new.pem") && !E2E.exists(outputs + "/new-key.pem"))
    }
}

// MARK: - Hostile input to cert verify / cert inspect

/// Files built once with openssl to attack the verifier: a very deep chain, a cross-signed loop, a huge subject,
/// garbage of several kinds.
struct HostileFixture: Sendable {
    let temp: TemporaryDirectory
    var path: String { temp.path }

    init() throws {
        temp = TemporaryDirectory("symbolon-e2e-hostile")
        FixtureCleanup.removeAtExit(temp.path)
        let script = #"""
            set -e
            cd "$1"
            gen() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
            printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' > ca.ext
            printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' > leaf.ext
            selfsign() { openssl req -x509 -new -key "$1" -subj "$2" -days 30 -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$3"; }
            sign() { # key subject issuer-cert issuer-key ext serial out
              openssl req -new -key "$1" -subj "$2" -out tmp.csr
              openssl x509 -req -in tmp.csr -CA "$3" -CAkey "$4" -set_serial "$6" -days 30 -extfile "$5" -out "$7" 2>/dev/null
            }
            # A chain of 110 intermediates under "Deep Root".
            gen k0.pem; selfsign k0.pem "/CN=Deep Root" deep-root.pem; cp deep-root.pem c0.pem
            : > deep-intermediates.pem
            i=1
            while [ $i -le 110 ]; do
              p=$((i-1)); gen k$i.pem
              sign k$i.pem "/CN=Deep CA $i" c$p.pem k$p.pem ca.ext $((1000+i)) c$i.pem
              cat c$i.pem >> deep-intermediates.pem
              i=$((i+1))
            done
            gen leafk.pem; sign leafk.pem "/CN=deep leaf" c110.pem k110.pem leaf.ext 9999 deep-leaf.pem
            gen shallowk.pem; sign shallowk.pem "/CN=shallow leaf" c5.pem k5.pem leaf.ext 9998 shallow-leaf.pem
            # Two CAs cross-signed into a loop, and a leaf under one of them; trust anchored elsewhere.
            gen ka.pem; gen kb.pem
            selfsign ka.pem "/CN=Loop A" tmp-a.pem; selfsign kb.pem "/CN=Loop B" tmp-b.pem
            sign ka.pem "/CN=Loop A" tmp-b.pem kb.pem ca.ext 501 a-by-b.pem
            sign kb.pem "/CN=Loop B" tmp-a.pem ka.pem ca.ext 502 b-by-a.pem
            cat a-by-b.pem b-by-a.pem > loop.pem
            gen loopleafk.pem; sign loopleafk.pem "/CN=loop leaf" a-by-b.pem ka.pem leaf.ext 503 loop-leaf.pem
            # A certificate with 600 OU attributes, signed by Deep Root; and a self-signed one.
            subj="/CN=huge"; i=1; while [ $i -le 600 ]; do subj="$subj/OU=unit $i"; i=$((i+1)); done
            gen hugek.pem; sign hugek.pem "$subj" deep-root.pem k0.pem leaf.ext 777 huge-leaf.pem
            openssl req -x509 -new -key hugek.pem -subj "$subj" -days 3 -out huge-self.pem
            # Garbage: 5 MB of base64 without armour, 5 MB inside CERTIFICATE armour, random bytes, nothing.
            head -c 3750000 /dev/urandom | base64 -w 76 > garbage.txt
            { echo "-----BEGIN CERTIFICATE-----"; head -c 3750000 /dev/urandom | base64 -w 64; echo "-----END CERTIFICATE-----"; } > garbage.pem
            head -c 200000 /dev/urandom > random.bin
            : > empty.pem
            mkdir a-directory
            rm -f tmp.csr
            """#
        let result = try ProcessRunner.run("/bin/sh", ["-c", script, "hostile", temp.path], timeout: 180)
        guard result.status == 0 else { throw SetupError("generating hostile input failed: \(result)") }
    }
}

/// One hostile `cert verify` invocation: roots, leaf, intermediates (file names in the fixture).
struct HostileCase: Sendable, CustomTestStringConvertible {
    let name: String
    let roots: String
    let leaf: String
    let intermediates: [String]
    /// The expected exit code when known, else nil (0 or 1 both fine).
    let expected: Int32?
    var testDescription: String { name }

    static let all: [HostileCase] = [
        HostileCase(
            name: "chain of 110 intermediates", roots: "deep-root.pem", leaf: "deep-leaf.pem",
            intermediates: ["deep-intermediates.pem"], expected: 1),
        HostileCase(
            name: "loop of two cross-signed CAs", roots: "deep-root.pem", leaf: "loop-leaf.pem",
            intermediates: ["loop.pem"], expected: 1),
        HostileCase(
            name: "loop CAs given as the leaf's chain", roots: "deep-root.pem", leaf: "a-by-b.pem",
            intermediates: ["loop.pem", "loop.pem"], expected: 1),
        HostileCase(
            name: "huge subject (600 OUs) under a trusted root", roots: "deep-root.pem", leaf: "huge-leaf.pem",
            intermediates: [], expected: nil),
        HostileCase(
            name: "huge subject, self-signed, as its own root", roots: "huge-self.pem", leaf: "huge-self.pem",
            intermediates: [], expected: nil),
        HostileCase(
            name: "huge subject as the trusted root", roots: "huge-self.pem", leaf: "deep-leaf.pem",
            intermediates: ["deep-intermediates.pem"], expected: 1),
        HostileCase(
            name: "5 MB of unarmoured base64 as the leaf", roots: "deep-root.pem", leaf: "garbage.txt",
            intermediates: [], expected: 1),
        HostileCase(
            name: "5 MB of garbage in CERTIFICATE armour as the leaf", roots: "deep-root.pem", leaf: "garbage.pem",
            intermediates: [], expected: 1),
        HostileCase(
            name: "5 MB of garbage as the roots", roots: "garbage.pem", leaf: "shallow-leaf.pem",
            intermediates: ["deep-intermediates.pem"], expected: 1),
        HostileCase(
            name: "5 MB of garbage as intermediates", roots: "deep-root.pem", leaf: "shallow-leaf.pem",
            intermediates: ["garbage.pem"], expected: 1),
        HostileCase(
            name: "random binary as the leaf", roots: "deep-root.pem", leaf: "random.bin", intermediates: [],
            expected: 1),
        HostileCase(
            name: "random binary as the roots", roots: "random.bin", leaf: "shallow-leaf.pem", intermediates: [],
            expected: 1),
        HostileCase(
            name: "empty file as the leaf", roots: "deep-root.pem", leaf: "empty.pem", intermediates: [], expected: 1),
        HostileCase(
            name: "empty file as the roots", roots: "empty.pem", leaf: "shallow-leaf.pem", intermediates: [],
            expected: 1),
        HostileCase(
            name: "a directory as the leaf", roots: "deep-root.pem", leaf: "a-directory", intermediates: [], expected: 1
        ),
        HostileCase(
            name: "a directory as the roots", roots: "a-directory", leaf: "shallow-leaf.pem", intermediates: [],
            expected: 1),
        HostileCase(
            name: "/dev/zero as the leaf", roots: "deep-root.pem", leaf: "/dev/zero", intermediates: [], expected: 1),
        HostileCase(
            name: "a missing file as the leaf", roots: "deep-root.pem", leaf: "does-not-exist.pem", intermediates: [],
            expected: 1),
    ]
}

@Suite("Hostile input never hangs or crashes cert verify / cert inspect")
struct HostileInputEndToEndTests {
    static let shared = Result { try HostileFixture() }

    @Test("Control: the hostile chain is well formed — a leaf 5 intermediates deep verifies with symbolon and openssl")
    func controlChainIsValid() throws {
        let f = try Self.shared.get()
        let symbolon = try E2E.symbolon([
            "cert", "verify", "--roots", f.path + "/deep-root.pem", "--leaf", f.path + "/shallow-leaf.pem",
            "--intermediates",
            f.path + "/deep-intermediates.pem",
        ])
        #expect(symbolon.status == 0, "\(symbolon)")
        let openssl = try E2E.openssl([
            "verify", "-CAfile", f.path + "/deep-root.pem", "-untrusted", f.path + "/deep-intermediates.pem",
            f.path + "/shallow-leaf.pem",
        ])
        #expect(openssl.status == 0, "\(openssl)")
    }

    @Test(
        "cert verify exits 0 or 1 with a verdict, within the time limit, never by a signal", arguments: HostileCase.all)
    func verifyHostile(_ hostile: HostileCase) throws {
        let f = try Self.shared.get()
        func path(_ name: String) -> String { name.hasPrefix("/") ? name : f.path + "/" + name }
        let result = try E2E.symbolon(
            ["cert", "verify", "--roots", path(hostile.roots), "--leaf", path(hostile.leaf)]
                + hostile.intermediates.flatMap { ["--intermediates", path($0)] })
        // A hang shows as status -9: the process runner kills anything still running at its timeout.
        #expect(result.status == 0 || result.status == 1, "crashed, hung or misbehaved: \(result)")
        if let expected = hostile.expected { #expect(result.status == expected, "\(result)") }
        if result.status == 0 { #expect(result.stdout.hasPrefix("accepted"), "\(result)") }
        if result.status == 1 {
            #expect(result.stdout.hasPrefix("rejected"), "a rejection must give a reason: \(result)")
        }
    }

    @Test(
        "cert verify with an out-of-range --max-depth is a usage error or a verdict, never a crash",
        arguments: ["2147483648", "3000000000", "9223372036854775807"])
    func hugeMaxDepth(_ depth: String) throws {
        let f = try Self.shared.get()
        let result = try E2E.symbolon([
            "cert", "verify", "--roots", f.path + "/deep-root.pem", "--leaf", f.path + "/shallow-leaf.pem",
            "--intermediates",
            f.path + "/deep-intermediates.pem", "--max-depth", depth,
        ])
        #expect(
            [0, 1, 2].contains(result.status),
            "--max-depth \(depth) crashed: exit \(result.status)\n\(result.stderr.prefix(600))")
        switch result.status {
        case 0: #expect(result.stdout.hasPrefix("accepted"), "\(result)")
        case 1: #expect(result.stdout.hasPrefix("rejected"), "\(result)")
        case 2: #expect(result.stderr.contains("--max-depth"), "\(result)")
        default: break
        }
    }

    @Test("The 110-intermediate chain is rejected as too long, like openssl does")
    func deepChainReason() throws {
        let f = try Self.shared.get()
        let result = try E2E.symbolon([
            "cert", "verify", "--roots", f.path + "/deep-root.pem", "--leaf", f.path + "/deep-leaf.pem",
            "--intermediates",
            f.path + "/deep-intermediates.pem",
        ])
        #expect(result.status == 1 && result.stdout.contains("too long"), "\(result)")
        let openssl = try E2E.openssl([
            "verify", "-CAfile", f.path + "/deep-root.pem", "-untrusted", f.path + "/deep-intermediates.pem",
            f.path + "/deep-leaf.pem",
        ])
        #expect(openssl.status != 0 && openssl.output.contains("chain too long"), "\(openssl)")
    }

    @Test(
        "cert inspect summarises the hostile certificates and refuses the garbage (exit 1 with a message), never dying by a signal",
        arguments: [
            ("deep-intermediates.pem", 0), ("loop.pem", 0), ("huge-leaf.pem", 0), ("huge-self.pem", 0),
            ("garbage.txt", 1),
            ("garbage.pem", 1), ("random.bin", 1), ("empty.pem", 1), ("a-directory", 1), ("/dev/zero", 1),
        ] as [(String, Int32)])
    func inspectHostile(_ file: String, _ expected: Int32) throws {
        let f = try Self.shared.get()
        let result = try E2E.symbolon(["cert", "inspect", file.hasPrefix("/") ? file : f.path + "/" + file])
        #expect(result.status == expected, "\(result.status): \(result.stderr.prefix(2000))")
        if expected == 0 {
            #expect(result.stdout.contains("SHA-256 fingerprint:"), "\(result.stdout.prefix(500))")
        } else {
            #expect(result.stderr.hasPrefix("error: "), "\(result.stderr.prefix(500))")
        }
    }
}
