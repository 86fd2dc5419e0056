import Foundation
import TestSupport
import Testing

/// A CA with three service leaves: `first` revoked by --serial before the first CRL, `second` revoked by --cert
/// after it (so only the second CRL lists it), `third` never revoked; plus the root's CRL.
struct RevocationScenario: Sendable {
    let ca: TestCA
    let first: IssuedLeaf
    let second: IssuedLeaf
    let third: IssuedLeaf
    /// The intermediate CRL published after revoking `first` only.
    let earlyCRL: String
    /// The intermediate CRL published after revoking both.
    let crl: String
    let rootCRL: String
    /// intermediate CRL + root CRL in one file.
    let bothCRLs: String

    init() throws {
        ca = try TestCA(label: "revocation")
        first = try ca.issue("service", ["--spiffe-id", "spiffe://acme.internal/first"], as: "first")
        second = try ca.issue("service", ["--spiffe-id", "spiffe://acme.internal/second"], as: "second")
        third = try ca.issue("service", ["--spiffe-id", "spiffe://acme.internal/third"], as: "third")

        // Step 1: by serial, in the upper-case form `openssl x509 -serial` prints.
        let serial = try E2E.openssl(["x509", "-in", first.cert, "-noout", "-serial"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
        let bySerial = try ca.symbolon(["ca", "revoke", "--serial", serial, "--reason", "keyCompromise"])
        guard bySerial.status == 0 else { throw SetupError("revoke --serial failed: \(bySerial)") }
        earlyCRL = try ca.publishCRL(to: "crl-early.pem")

        // Step 2: by certificate file.
        let byCert = try ca.symbolon(["ca", "revoke", "--cert", second.cert])
        guard byCert.status == 0 else { throw SetupError("revoke --cert failed: \(byCert)") }
        crl = try ca.publishCRL(to: "crl.pem")
        rootCRL = try ca.publishCRL(issuer: "root", to: "root-crl.pem")
        bothCRLs = ca.file("both-crls.pem")
        try (E2E.read(crl) + E2E.read(rootCRL)).write(toFile: bothCRLs, atomically: true, encoding: .utf8)
    }

    var revoked: [IssuedLeaf] { [first, second] }
}

@Suite("Revocation: ca revoke + ca crl, checked by openssl and by symbolon cert verify")
struct RevocationEndToEndTests {
    static let shared = Result { try RevocationScenario() }

    @Test(
        "openssl verify -crl_check with the intermediate CRL reports the revoked leaves as 'certificate revoked' and accepts the other"
    )
    func opensslCRLCheck() throws {
        let s = try Self.shared.get()
        for leaf in s.revoked {
            let result = try s.ca.opensslVerify(leaf.cert, ["-crl_check", "-CRLfile", s.crl])
            #expect(result.status != 0, "\(leaf.serial): \(result)")
            #expect(result.output.contains("certificate revoked"), "\(result)")
        }
        let good = try s.ca.opensslVerify(s.third.cert, ["-crl_check", "-CRLfile", s.crl])
        #expect(good.status == 0, "\(good)")
    }

    @Test("openssl verify -crl_check_all with the intermediate and root CRLs gives the same verdicts")
    func opensslCRLCheckAll() throws {
        let s = try Self.shared.get()
        for leaf in s.revoked {
            let result = try s.ca.opensslVerify(leaf.cert, ["-crl_check_all", "-CRLfile", s.bothCRLs])
            #expect(result.status != 0, "\(result)")
            #expect(result.output.contains("certificate revoked"), "\(result)")
        }
        let good = try s.ca.opensslVerify(s.third.cert, ["-crl_check_all", "-CRLfile", s.bothCRLs])
        #expect(good.status == 0, "\(good)")
    }

    @Test(
        "The intermediate CRL verifies with intermediate.pem and the root CRL with root.pem (openssl crl prints verify OK)"
    )
    func crlSignatures() throws {
        let s = try Self.shared.get()
        let intermediate = try E2E.openssl(["crl", "-in", s.crl, "-CAfile", s.ca.intermediate, "-noout"])
        #expect(intermediate.status == 0 && intermediate.output.contains("verify OK"), "\(intermediate)")
        let root = try E2E.openssl(["crl", "-in", s.rootCRL, "-CAfile", s.ca.root, "-noout"])
        #expect(root.status == 0 && root.output.contains("verify OK"), "\(root)")
        // And not the other way round: the intermediate CRL is not signed by the root.
        let crossed = try E2E.openssl(["crl", "-in", s.crl, "-CAfile", s.ca.root, "-noout"])
        #expect(!crossed.output.contains("verify OK"), "\(crossed)")
    }

    @Test("A CRL lists exactly the certificates revoked before it was published")
    func crlContents() throws {
        let s = try Self.shared.get()
        func serials(_ file: String) throws -> Set<String> {
            let text = try E2E.openssl(["crl", "-in", file, "-noout", "-text"]).stdout
            return Set(
                text.components(separatedBy: "\n").filter { $0.contains("Serial Number:") }.map {
                    var hex = $0.components(separatedBy: "Serial Number:")[1].trimmingCharacters(in: .whitespaces)
                        .lowercased()
                    while hex.hasPrefix("00"), hex.count > 2 { hex.removeFirst(2) }
                    return hex
                })
        }
        #expect(try serials(s.earlyCRL) == [s.first.serial])
        #expect(try serials(s.crl) == [s.first.serial, s.second.serial])
        #expect(try serials(s.rootCRL).isEmpty)
        let text = try E2E.openssl(["crl", "-in", s.crl, "-noout", "-text"]).stdout
        #expect(text.contains("Key Compromise"), "the reason given to ca revoke must be in the CRL:\n\(text)")
    }

    @Test("symbolon cert verify --crls agrees: exit 1 'revoked' for the revoked leaves, exit 0 for the other")
    func symbolonAgrees() throws {
        let s = try Self.shared.get()
        for leaf in s.revoked {
            let result = try s.ca.symbolonVerify(leaf.cert, ["--crls", s.crl, "--crls", s.rootCRL])
            #expect(result.status == 1, "\(result)")
            #expect(result.output.contains("revoked"), "\(result)")
        }
        let good = try s.ca.symbolonVerify(s.third.cert, ["--crls", s.crl, "--crls", s.rootCRL])
        #expect(good.status == 0, "\(good)")
        // The same CRLs in one bundle work the same way.
        let bundled = try s.ca.symbolonVerify(s.first.cert, ["--crls", s.bothCRLs])
        #expect(bundled.status == 1 && bundled.output.contains("revoked"), "\(bundled)")
    }

    @Test(
        "Without the root's CRL, symbolon cert verify fails closed (exit 1) even for a leaf that is not revoked — as openssl -crl_check_all does"
    )
    func missingRootCRLFailsClosed() throws {
        let s = try Self.shared.get()
        let result = try s.ca.symbolonVerify(s.third.cert, ["--crls", s.crl])
        #expect(result.status == 1, "\(result)")
        #expect(result.output.contains("revocation") || result.output.contains("CRL"), "\(result)")
        let openssl = try s.ca.opensslVerify(s.third.cert, ["-crl_check_all", "-CRLfile", s.crl])
        #expect(openssl.status != 0, "\(openssl)")
    }

    @Test("CRL numbers only grow across successive ca crl runs, separately for the intermediate and the root")
    func crlNumbersIncrease() throws {
        let ca = try TestCA(label: "crl-numbers")
        func number(_ file: String) throws -> Int {
            let result = try E2E.openssl(["crl", "-in", file, "-noout", "-crlnumber"])
            let hex = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(
                of: "crlNumber=0x", with: "")
            return try #require(Int(hex, radix: 16), "cannot parse \(result)")
        }
        var intermediate: [Int] = []
        var root: [Int] = []
        for round in 0..<3 {
            intermediate.append(try number(ca.publishCRL(to: "i\(round).pem")))
            if round < 2 { root.append(try number(ca.publishCRL(issuer: "root", to: "r\(round).pem"))) }
        }
        #expect(
            intermediate == intermediate.sorted() && Set(intermediate).count == intermediate.count, "\(intermediate)")
        #expect(root.count == 2 && root[0] < root[1], "\(root)")
        #expect(intermediate.first ?? 0 >= 1)
        // The copy kept in the CA directory is the latest one.
        #expect(E2E.read(ca.dir + "/intermediate.crl.pem") == E2E.read(ca.file("i2.pem")))
        #expect(E2E.read(ca.dir + "/root.crl.pem") == E2E.read(ca.file("r1.pem")))
    }

    @Test("ca revoke --serial accepts the colon-separated and 0x-prefixed forms of a serial, and the CRL lists them")
    func serialSpellings() throws {
        let ca = try TestCA(label: "serial-forms")
        let a = try ca.issue("client", ["--cn", "colons"], as: "colons")
        let b = try ca.issue("client", ["--cn", "hex"], as: "hex")
        let colons = stride(from: 0, to: a.serial.count, by: 2).map { offset -> String in
            let start = a.serial.index(a.serial.startIndex, offsetBy: offset)
            return String(a.serial[start..<a.serial.index(start, offsetBy: 2)]).uppercased()
        }.joined(separator: ":")
        try ca.revoke(serial: colons)
        try ca.revoke(serial: "0x" + b.serial)
        let crl = try ca.publishCRL(to: "crl.pem")
        for leaf in [a, b] {
            let result = try ca.opensslVerify(leaf.cert, ["-crl_check", "-CRLfile", crl])
            #expect(result.output.contains("certificate revoked"), "\(result)")
        }
        #expect(try ca.sql("select count(*) from certificates where revoked_at is not null") == "2")
    }

    @Test("Revoking a certificate twice is refused (exit 1, 'already revoked') and records nothing")
    func revokeTwice() throws {
        let ca = try TestCA(label: "revoke-twice")
        let leaf = try ca.issue("client", ["--cn", "twice"], as: "twice")
        try ca.revoke(serial: leaf.serial)
        let before = try StoreSnapshot(of: ca)
        let again = try ca.symbolon(["ca", "revoke", "--serial", leaf.serial])
        #expect(again.status == 1, "\(again)")
        #expect(again.stderr.contains("already revoked"), "\(again)")
        #expect(try StoreSnapshot(of: ca) == before)
    }

    @Test("ca revoke --cert refuses a certificate issued by another CA with the same names, and changes nothing")
    func revokeForeignCertificate() throws {
        let ca = try TestCA(label: "revoke-mine")
        let other = try TestCA(label: "revoke-other")
        _ = try ca.issue("client", ["--cn", "mine"], as: "mine")
        let foreign = try other.issue("client", ["--cn", "mine"], as: "foreign")
        let before = try StoreSnapshot(of: ca)
        let result = try ca.symbolon(["ca", "revoke", "--cert", foreign.cert])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("not issued by this CA"), "\(result)")
        #expect(try StoreSnapshot(of: ca) == before)
    }
}
