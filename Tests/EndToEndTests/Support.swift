import Foundation
import TestSupport
import Testing

/// Shared helpers for the end-to-end tests: they run the real `symbolon` binary and real `openssl`, `sqlite3`,
/// `pk12util`, never library code.
enum E2E {
    /// The root passphrase of every test CA.
    static let passphrase = "correct horse battery staple"

    /// Runs `symbolon` with `arguments`; the passphrase goes in through SYMBOLON_PASSPHRASE unless `passphrase` is
    /// nil (ProcessRunner strips any inherited value).
    static func symbolon(_ arguments: [String], passphrase: String? = nil) throws -> ProcessResult {
        try ProcessRunner.symbolon(arguments, environment: passphrase.map { ["SYMBOLON_PASSPHRASE": $0] } ?? [:])
    }

    static func openssl(_ arguments: [String], timeout: TimeInterval = 60) throws -> ProcessResult {
        try ProcessRunner.run("openssl", arguments, timeout: timeout)
    }

    /// Runs a /bin/sh script (with `set -e` semantics left to the script).
    static func sh(_ script: String, timeout: TimeInterval = 120) throws -> ProcessResult {
        try ProcessRunner.run("/bin/sh", ["-c", script], timeout: timeout)
    }

    /// Single-quotes `text` for /bin/sh.
    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// POSIX permission bits of a file (e.g. 0o600), or nil when it cannot be read.
    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
    }

    /// The PEM blocks (label, DER) in `text`, decoded here independently of the product's parser.
    static func pemBlocks(_ text: String) -> [(label: String, der: [UInt8])] {
        var blocks: [(String, [UInt8])] = []
        var label: String?
        var body = ""
        for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
                label = String(line.dropFirst(11).dropLast(5))
                body = ""
            } else if line.hasPrefix("-----END ") {
                if let current = label, let data = Data(base64Encoded: body) { blocks.append((current, [UInt8](data))) }
                label = nil
            } else if label != nil {
                body += line
            }
        }
        return blocks
    }

    /// PEM armour for `der` with `label`.
    static func pem(_ label: String, _ der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(base64)\n-----END \(label)-----\n"
    }

    /// The serial number of the first certificate in a PEM file, as lowercase hex without leading zero bytes
    /// (the form `ca list` uses), read with a minimal DER walk: Certificate → tbsCertificate → [0] version → serial.
    static func serialOfFirstCertificate(in path: String) -> String? {
        guard let der = pemBlocks(read(path)).first(where: { $0.label == "CERTIFICATE" })?.der else { return nil }
        var index = 0
        func header() -> (tag: UInt8, length: Int)? {
            guard index + 2 <= der.count else { return nil }
            let tag = der[index]
            var length = Int(der[index + 1])
            index += 2
            if length & 0x80 != 0 {
                let count = length & 0x7f
                guard count <= 4, index + count <= der.count else { return nil }
                length = 0
                for _ in 0..<count {
                    length = length << 8 | Int(der[index])
                    index += 1
                }
            }
            return (tag, length)
        }
        guard header()?.tag == 0x30, header()?.tag == 0x30 else { return nil }  // Certificate, tbsCertificate
        guard var field = header() else { return nil }
        if field.tag == 0xa0 {  // explicit version
            index += field.length
            guard let next = header() else { return nil }
            field = next
        }
        guard field.tag == 0x02, index + field.length <= der.count else { return nil }
        var bytes = Array(der[index..<index + field.length])
        while bytes.count > 1, bytes[0] == 0 { bytes.removeFirst() }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// `openssl x509 -noout -serial` of a file, normalised to lowercase hex without leading zero bytes.
    static func opensslSerial(_ path: String) throws -> String {
        let result = try openssl(["x509", "-in", path, "-noout", "-serial"])
        var hex = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(
            of: "serial=", with: ""
        )
        .lowercased()
        if hex.count % 2 == 1 { hex = "0" + hex }
        while hex.hasPrefix("00"), hex.count > 2 { hex.removeFirst(2) }
        return hex
    }

    /// Seconds since 1970 as openssl's `-attime` wants them.
    static func epoch(_ date: Date) -> String { String(Int(date.timeIntervalSince1970)) }

    /// RFC 3339 (UTC, no fraction) as `symbolon cert verify --time` wants it.
    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// Directories of fixtures held in `static let`s, which are never deinitialised: removed when the test process
/// exits, so a run leaves nothing behind in the shared temporary directory.
enum FixtureCleanup {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: [String] = []
    private static let registered: Void = { atexit { FixtureCleanup.removeAll() } }()

    static func removeAtExit(_ path: String) {
        _ = registered
        lock.withLock { paths.append(path) }
    }

    static func removeAll() {
        for path in lock.withLock({ paths }) { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// A failure while setting up a fixture (the message carries the process output).
struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A certificate `ca issue` wrote: the chain file, the key file and the serial it printed.
struct IssuedLeaf: Sendable {
    let cert: String
    let key: String
    let serial: String
}

/// A CA created with the real `symbolon ca init` in a fresh temporary directory (`<tmp>/ca`); scratch files go
/// next to it. The directory is removed when the last copy of this value goes away.
struct TestCA: Sendable {
    let temp: TemporaryDirectory
    let trustDomain: String

    var work: String { temp.path }
    var dir: String { temp.path + "/ca" }
    var root: String { dir + "/root.pem" }
    var intermediate: String { dir + "/intermediate.pem" }
    var intermediateKey: String { dir + "/intermediate-key.pem" }
    var rootKey: String { dir + "/root-key.pem" }
    var database: String { dir + "/symbolon.db" }
    var passphraseFile: String { temp.path + "/passphrase.txt" }

    init(
        label: String = "ca", name: String = "Acme", trustDomain: String = "acme.internal",
        dnsConstraints: [String] = ["acme.com"]
    ) throws {
        temp = TemporaryDirectory("symbolon-e2e-\(label)")
        FixtureCleanup.removeAtExit(temp.path)
        self.trustDomain = trustDomain
        try temp.write("passphrase.txt", E2E.passphrase + "\n")
        let result = try E2E.symbolon(
            ["ca", "init", "--dir", temp.path + "/ca", "--name", name, "--trust-domain", trustDomain]
                + dnsConstraints.flatMap { ["--dns-constraint", $0] } + [
                    "--passphrase-file", temp.path + "/passphrase.txt",
                ])
        guard result.status == 0 else { throw SetupError("ca init failed: \(result)") }
    }

    /// A path for a scratch file next to the CA directory.
    func file(_ name: String) -> String { temp.file(name) }

    /// `symbolon <arguments> --dir <dir>`.
    func symbolon(_ arguments: [String], passphrase: String? = nil) throws -> ProcessResult {
        try E2E.symbolon(arguments + ["--dir", dir], passphrase: passphrase)
    }

    /// Issues a certificate with a generated key to `<name>.pem` / `<name>-key.pem`; throws unless it worked.
    func issue(_ profile: String, _ arguments: [String], as name: String) throws -> IssuedLeaf {
        let cert = file(name + ".pem")
        let key = file(name + "-key.pem")
        let result = try symbolon(
            ["ca", "issue", "--profile", profile] + arguments + ["--out-cert", cert, "--out-key", key])
        guard result.status == 0 else { throw SetupError("ca issue \(profile) \(arguments) failed: \(result)") }
        // "issued <profile> certificate <serial> for …"
        let words = result.stdout.split(separator: " ")
        guard let index = words.firstIndex(of: "certificate"), index + 1 < words.count else {
            throw SetupError("cannot find the serial in: \(result.stdout)")
        }
        return IssuedLeaf(cert: cert, key: key, serial: String(words[index + 1]))
    }

    /// Publishes a CRL (`intermediate` or `root`) to `name` and returns its path; throws unless it worked.
    @discardableResult
    func publishCRL(issuer: String = "intermediate", to name: String) throws -> String {
        let out = file(name)
        let result = try symbolon(["ca", "crl", "--issuer", issuer, "--out", out], passphrase: E2E.passphrase)
        guard result.status == 0 else { throw SetupError("ca crl --issuer \(issuer) failed: \(result)") }
        return out
    }

    /// Revokes by serial; throws unless it worked.
    func revoke(serial: String) throws {
        let result = try symbolon(["ca", "revoke", "--serial", serial])
        guard result.status == 0 else { throw SetupError("ca revoke \(serial) failed: \(result)") }
    }

    /// `sqlite3 symbolon.db <sql>` output, trimmed. (Not `-readonly`: a read-only connection cannot checkpoint
    /// and would leave `-wal`/`-shm` files behind, which would look like a change to the CA directory.)
    func sql(_ query: String) throws -> String {
        let result = try ProcessRunner.run("sqlite3", [database, query])
        guard result.status == 0 else { throw SetupError("sqlite3 failed: \(result)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Signs a leaf with this CA's intermediate key using openssl alone — behind the CA's back, so no profile or
    /// trust-domain check applies — carrying `san` (an openssl subjectAltName value) and the service profile's
    /// key usages. Returns the leaf's path.
    func forgeLeaf(san: String, as name: String, extendedKeyUsage: String = "serverAuth,clientAuth") throws -> String {
        let key = file(name + "-key.pem")
        let csr = file(name + ".csr")
        let ext = file(name + ".ext")
        let cert = file(name + ".pem")
        try """
        basicConstraints=critical,CA:FALSE
        keyUsage=critical,digitalSignature
        extendedKeyUsage=\(extendedKeyUsage)
        subjectKeyIdentifier=hash
        authorityKeyIdentifier=keyid
        subjectAltName=\(san)

        """.write(toFile: ext, atomically: true, encoding: .utf8)
        let serial = "0x" + (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255) & 0x7f) }.joined()
        for step in [
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
            ["req", "-new", "-key", key, "-subj", "/O=Forged/CN=\(name)", "-out", csr],
            [
                "x509", "-req", "-in", csr, "-CA", intermediate, "-CAkey", intermediateKey, "-set_serial", serial,
                "-days", "1", "-extfile", ext, "-out", cert,
            ],
        ] {
            let result = try E2E.openssl(step)
            guard result.status == 0 else { throw SetupError("openssl \(step) failed: \(result)") }
        }
        return cert
    }

    /// `openssl verify -x509_strict -CAfile root -untrusted intermediate <extra> <leaf>`.
    func opensslVerify(_ leaf: String, _ extra: [String] = []) throws -> ProcessResult {
        try E2E.openssl(["verify", "-x509_strict", "-CAfile", root, "-untrusted", intermediate] + extra + [leaf])
    }

    /// `symbolon cert verify --roots root --intermediates intermediate --leaf <leaf> <extra>`.
    func symbolonVerify(_ leaf: String, _ extra: [String] = []) throws -> ProcessResult {
        try E2E.symbolon(["cert", "verify", "--roots", root, "--intermediates", intermediate, "--leaf", leaf] + extra)
    }
}

/// Everything a CA directory holds — every file's bytes (hidden ones included) and the row counts of the store —
/// to prove a refused command changed nothing.
struct StoreSnapshot: Equatable, CustomStringConvertible {
    let files: [String: Data]
    let counts: String

    init(of ca: TestCA) throws {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: ca.dir) {
            files[name] = FileManager.default.contents(atPath: ca.dir + "/" + name) ?? Data()
        }
        self.files = files
        counts = try ca.sql(
            "select count(*) from certificates; select count(*) from audit_log; select count(*) from crls;"
        )
        .replacingOccurrences(of: "\n", with: " ")
    }

    var description: String {
        files.keys.sorted().map { "\($0) (\(files[$0]!.count) bytes)" }.joined(separator: ", ")
            + "; certificates/audit/crls: \(counts)"
    }
}

extension ProcessResult {
    /// stdout and stderr together, for messages that may go to either.
    var output: String { stdout + stderr }
}
