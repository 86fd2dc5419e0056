import Foundation
import TestSupport
import Testing

/// A command path and what its help must list.
struct HelpCase: Sendable, CustomTestStringConvertible {
    let path: [String]
    let lists: [String]
    var testDescription: String { (["symbolon"] + path).joined(separator: " ") }

    static let all: [HelpCase] = [
        HelpCase(path: [], lists: ["ca", "cert", "export", "version"]),
        HelpCase(path: ["ca"], lists: ["init", "issue", "revoke", "crl", "list", "audit", "profiles", "root-key"]),
        HelpCase(
            path: ["ca", "init"],
            lists: [
                "--dir", "--name", "--trust-domain", "--dns-constraint", "--crl-url", "--ocsp-url", "--key-type",
                "--passphrase-file",
            ]),
        HelpCase(
            path: ["ca", "issue"],
            lists: [
                "--dir", "--profile", "--spiffe-id", "--dns", "--ip", "--email", "--cn", "--device-serial", "--csr",
                "--key-type", "--lifetime", "--out-cert", "--out-key",
            ]),
        HelpCase(path: ["ca", "revoke"], lists: ["--dir", "--serial", "--cert", "--reason"]),
        HelpCase(path: ["ca", "crl"], lists: ["--dir", "--out", "--issuer", "--root-key", "--passphrase-file"]),
        HelpCase(
            path: ["ca", "list"],
            lists: ["--dir", "--expiring-within", "--revoked", "--profile", "--spiffe-id", "--format"]),
        HelpCase(path: ["ca", "audit"], lists: ["--dir", "--limit", "--format"]),
        HelpCase(path: ["ca", "profiles"], lists: ["--dir", "--format"]),
        HelpCase(path: ["ca", "root-key"], lists: ["export", "remove"]),
        HelpCase(path: ["ca", "root-key", "export"], lists: ["--dir", "--out", "--passphrase-file"]),
        HelpCase(path: ["ca", "root-key", "remove"], lists: ["--dir", "--exported-copy", "--passphrase-file"]),
        HelpCase(path: ["cert"], lists: ["inspect", "verify"]),
        HelpCase(path: ["cert", "inspect"], lists: ["<FILE>", "--format"]),
        HelpCase(
            path: ["cert", "verify"],
            lists: [
                "--roots", "--leaf", "--intermediates", "--crls", "--time", "--purpose", "--eku", "--dns-name",
                "--ip-address", "--email", "--uri", "--max-depth", "--quiet",
            ]),
        HelpCase(path: ["export"], lists: ["p12"]),
        HelpCase(
            path: ["export", "p12"], lists: ["--cert", "--key", "--chain", "--name", "--out", "--passphrase-file"]),
        HelpCase(path: ["version"], lists: ["--help"]),
    ]
}

@Suite("CLI basics: help, exit codes, inventory, audit, inspect, offline root")
struct CLIBasicsTests {
    @Test("--help works on every command and subcommand (exit 0, usage line, every option)", arguments: HelpCase.all)
    func help(_ command: HelpCase) throws {
        for flag in ["--help", "-h"] {
            let result = try E2E.symbolon(command.path + [flag])
            #expect(result.status == 0, "\(result)")
            #expect(
                result.stdout.contains("USAGE: " + (["symbolon"] + command.path).joined(separator: " ")),
                "\(result.stdout)")
            for item in command.lists {
                #expect(result.stdout.contains(item), "help must list \(item):\n\(result.stdout)")
            }
            #expect(result.stderr.isEmpty, "\(result.stderr)")
        }
        // `symbolon help <path>` prints the same.
        let viaHelp = try E2E.symbolon(["help"] + command.path)
        #expect(viaHelp.status == 0)
        #expect(viaHelp.stdout == (try E2E.symbolon(command.path + ["--help"])).stdout)
    }

    @Test(
        "Unknown commands, subcommands and options are usage errors (exit 2) that name the culprit",
        arguments: [
            ["frobnicate"], ["ca", "frobnicate"], ["cert", "verfy"], ["ca", "list", "--frobnicate"], ["ca", "issue"],
        ])
    func usageErrors(_ arguments: [String]) throws {
        let result = try E2E.symbolon(arguments)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.hasPrefix("error: "), "\(result)")
        let culprit = arguments.count > 1 ? arguments.last! : arguments[0]
        if culprit != "issue" { #expect(result.stderr.contains(culprit), "\(result)") }
    }

    @Test("A group without a subcommand prints its help to stderr and exits 2")
    func groupWithoutSubcommand() throws {
        let result = try E2E.symbolon(["ca"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("SUBCOMMANDS"), "\(result)")
    }

    @Test("version prints the version")
    func version() throws {
        let result = try E2E.symbolon(["version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("symbolon "), "\(result)")
    }

    @Test("ca profiles lists the five built-in profiles, also as JSON")
    func profiles() throws {
        let table = try E2E.symbolon(["ca", "profiles"])
        #expect(table.status == 0, "\(table)")
        for name in ["service", "server", "client", "user", "device"] { #expect(table.stdout.contains(name)) }
        let json = try E2E.symbolon(["ca", "profiles", "--format", "json"])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(Set(parsed.compactMap { $0["name"] as? String }) == ["service", "server", "client", "user", "device"])
    }

    @Test(
        "ca list --expiring-within 72h exits 4 and raises an alert for a 24h service certificate, not for a 90d user certificate"
    )
    func expiringServiceCertificate() throws {
        let ca = try TestCA(label: "expiring")
        let service = try ca.issue("service", ["--spiffe-id", "spiffe://acme.internal/short"], as: "service")
        let user = try ca.issue("user", ["--cn", "Alice", "--email", "alice@acme.com"], as: "user")
        try ca.publishCRL(to: "crl.pem")
        let result = try ca.symbolon(["ca", "list", "--expiring-within", "72h", "--format", "json"])
        #expect(result.status == 4, "\(result)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let alerts = try #require(json["alerts"] as? [String])
        #expect(alerts.contains { $0.contains(service.serial) }, "\(alerts)")
        #expect(!alerts.contains { $0.contains(user.serial) }, "\(alerts)")
        let listed = (json["certificates"] as? [[String: Any]] ?? []).compactMap { $0["serial"] as? String }
        #expect(listed == [service.serial], "only certificates inside the threshold are listed: \(listed)")
        // The table form alerts on stderr.
        let table = try ca.symbolon(["ca", "list", "--expiring-within", "72h"])
        #expect(table.status == 4)
        #expect(table.stderr.contains("ALERT") && table.stderr.contains(service.serial), "\(table)")
    }

    @Test(
        "ca list --expiring-within 1h exits 0 with a published CRL and only a 90d user certificate, and 4 before any CRL"
    )
    func nothingExpiring() throws {
        let ca = try TestCA(label: "not-expiring")
        _ = try ca.issue("user", ["--cn", "Alice", "--email", "alice@acme.com"], as: "user")
        let before = try ca.symbolon(["ca", "list", "--expiring-within", "1h"])
        #expect(before.status == 4, "no CRL published yet must alert: \(before)")
        #expect(before.stderr.contains("no CRL"), "\(before)")
        try ca.publishCRL(to: "crl.pem")
        try ca.publishCRL(issuer: "root", to: "root-crl.pem")
        let after = try ca.symbolon(["ca", "list", "--expiring-within", "1h"])
        #expect(after.status == 0, "\(after)")
        #expect(!after.stderr.contains("ALERT"), "\(after)")
        // Without a threshold there is never an alert exit.
        #expect(try ca.symbolon(["ca", "list"]).status == 0)
    }

    @Test("ca list --format json parses as JSON and describes each issued and revoked certificate")
    func listJSON() throws {
        let ca = try TestCA(label: "list-json")
        let service = try ca.issue("service", ["--spiffe-id", "spiffe://acme.internal/api"], as: "service")
        let server = try ca.issue("server", ["--dns", "www.acme.com"], as: "server")
        try ca.revoke(serial: server.serial)
        let result = try ca.symbolon(["ca", "list", "--format", "json"])
        #expect(result.status == 0, "\(result)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let entries = try #require(json["certificates"] as? [[String: Any]])
        let bySerial = Dictionary(
            uniqueKeysWithValues: entries.compactMap { e in (e["serial"] as? String).map { ($0, e) } })
        #expect(Set(bySerial.keys) == [service.serial, server.serial])
        #expect(bySerial[service.serial]?["spiffeID"] as? String == "spiffe://acme.internal/api")
        #expect(bySerial[service.serial]?["status"] as? String == "valid")
        #expect(bySerial[service.serial]?["profile"] as? String == "service")
        #expect(bySerial[server.serial]?["status"] as? String == "revoked")
        #expect(bySerial[server.serial]?["names"] as? [String] == ["DNS:www.acme.com"])
        // The fingerprint in the inventory is the certificate's (openssl's, without colons).
        let fingerprint = try E2E.openssl(["x509", "-in", service.cert, "-noout", "-fingerprint", "-sha256"]).stdout
            .components(separatedBy: "=").last!.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: ":", with: "").lowercased()
        #expect(bySerial[service.serial]?["fingerprintSHA256"] as? String == fingerprint)
        #expect(json["rootNotAfter"] is String && json["intermediateNotAfter"] is String)
        // Filters.
        let revoked = try ca.symbolon(["ca", "list", "--revoked", "--format", "json"])
        let revokedEntries =
            (try JSONSerialization.jsonObject(with: Data(revoked.stdout.utf8)) as? [String: Any])?["certificates"]
            as? [[String: Any]]
        #expect(revokedEntries?.compactMap { $0["serial"] as? String } == [server.serial])
    }

    @Test("ca audit lists ca.init, certificate.issue, certificate.revoke and crl.publish in order")
    func auditOrder() throws {
        let ca = try TestCA(label: "audit")
        let leaf = try ca.issue("client", ["--cn", "audited"], as: "audited")
        try ca.revoke(serial: leaf.serial)
        try ca.publishCRL(to: "crl.pem")
        let json = try ca.symbolon(["ca", "audit", "--format", "json"])
        #expect(json.status == 0, "\(json)")
        let events = json.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(
            events.compactMap { $0["action"] as? String } == [
                "ca.init", "certificate.issue", "certificate.revoke", "crl.publish",
            ])
        #expect(events.dropFirst().prefix(2).allSatisfy { $0["serial"] as? String == leaf.serial }, "\(events)")
        // The text form, in the same order.
        let text = try ca.symbolon(["ca", "audit"])
        let actions = text.stdout.split(separator: "\n").map { $0.split(separator: " ")[2] }
        #expect(actions == ["ca.init", "certificate.issue", "certificate.revoke", "crl.publish"], "\(text.stdout)")
        // --limit keeps the last events.
        let last = try ca.symbolon(["ca", "audit", "--limit", "1"])
        #expect(last.stdout.contains("crl.publish") && !last.stdout.contains("ca.init"), "\(last)")
    }

    @Test("cert inspect shows the SPIFFE ID, the SANs and the same SHA-256 fingerprint as openssl")
    func inspect() throws {
        let ca = try TestCA(label: "inspect")
        let service = try ca.issue(
            "service", ["--spiffe-id", "spiffe://acme.internal/ns/web", "--dns", "web.acme.com", "--ip", "10.9.8.7"],
            as: "web")
        let result = try E2E.symbolon(["cert", "inspect", service.cert])
        #expect(result.status == 0, "\(result)")
        let fingerprint = try E2E.openssl(["x509", "-in", service.cert, "-noout", "-fingerprint", "-sha256"]).stdout
            .components(separatedBy: "=").last!.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(fingerprint.count == 95, "colon hex: \(fingerprint)")
        let lines = result.stdout.components(separatedBy: "\n")
        func value(_ label: String) -> String? {
            lines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label + ":") }
                .map { $0.components(separatedBy: label + ":")[1].trimmingCharacters(in: .whitespaces) }
        }
        #expect(value("SPIFFE ID") == "spiffe://acme.internal/ns/web", "\(result.stdout)")
        let names = value("Names") ?? ""
        for name in ["URI:spiffe://acme.internal/ns/web", "DNS:web.acme.com", "IP:10.9.8.7"] {
            #expect(names.contains(name), "\(names)")
        }
        #expect(value("SHA-256 fingerprint") == fingerprint, "\(result.stdout)")
        #expect(value("Serial") == service.serial)
        // The chain file holds two certificates; the second is the intermediate.
        #expect(
            result.stdout.contains("Certificate 2 of 2")
                && result.stdout.contains("CA certificate: Acme Intermediate CA"))
    }

    @Test(
        "Offline root: root-key export + remove deletes root-key.pem; then ca crl --issuer root needs --root-key and works with it"
    )
    func offlineRoot() throws {
        let ca = try TestCA(label: "offline-root")
        let copy = ca.file("offline-root-key.pem")
        let exported = try ca.symbolon(["ca", "root-key", "export", "--out", copy], passphrase: E2E.passphrase)
        try #require(exported.status == 0, "\(exported)")
        #expect(E2E.read(copy) == E2E.read(ca.rootKey), "the export is the encrypted key, unchanged")
        #expect(E2E.mode(copy) == 0o600)
        // Export never overwrites.
        let again = try ca.symbolon(["ca", "root-key", "export", "--out", copy], passphrase: E2E.passphrase)
        #expect(again.status == 1, "\(again)")

        let removed = try ca.symbolon(
            ["ca", "root-key", "remove", "--exported-copy", copy], passphrase: E2E.passphrase)
        #expect(removed.status == 0, "\(removed)")
        #expect(!E2E.exists(ca.rootKey))
        #expect(E2E.exists(copy))

        let out = ca.file("root-crl.pem")
        let refused = try ca.symbolon(["ca", "crl", "--issuer", "root", "--out", out], passphrase: E2E.passphrase)
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("--root-key"), "\(refused)")
        #expect(!E2E.exists(out))

        let published = try ca.symbolon(
            ["ca", "crl", "--issuer", "root", "--root-key", copy, "--out", out], passphrase: E2E.passphrase)
        #expect(published.status == 0, "\(published)")
        let verified = try E2E.openssl(["crl", "-in", out, "-CAfile", ca.root, "-noout"])
        #expect(verified.output.contains("verify OK"), "\(verified)")
        // Issuing with the intermediate still works with the root offline.
        _ = try ca.issue("client", ["--cn", "after-offline"], as: "after-offline")
    }

    @Test("root-key remove refuses an exported copy that is not this CA's root key, and keeps root-key.pem")
    func removeWithWrongCopy() throws {
        let ca = try TestCA(label: "remove-wrong")
        let other = try TestCA(label: "remove-other")
        let result = try ca.symbolon(
            ["ca", "root-key", "remove", "--exported-copy", other.rootKey], passphrase: E2E.passphrase)
        #expect(result.status == 1, "\(result)")
        #expect(E2E.exists(ca.rootKey))
    }
}
