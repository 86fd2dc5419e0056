import Foundation
import TestSupport
import Testing

/// The proxy end-to-end tests, run one at a time: they time handshakes, reloads and drains on two shared cores, and
/// parallel load from a neighbouring test would turn bounded waits into flakes. Each file adds a nested suite.
@Suite("symbolon proxy, end to end", .serialized)
enum ProxyEndToEndTests {}

/// A child process whose stdout and stderr are collected line by line while it runs, with stdin kept open for
/// commands. It is killed (by its own PID) when the value goes away, so no test path leaks a process.
final class RunningProcess: @unchecked Sendable {  // @unchecked: the collected text is only touched under `lock`
    enum Stream { case stdout, stderr }

    let process = Process()
    let name: String
    private let lock = NSLock()
    private var collected: [Stream: String] = [.stdout: "", .stderr: ""]
    private let input = Pipe()
    private let readers = DispatchGroup()

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        name = URL(fileURLWithPath: executable).lastPathComponent
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SYMBOLON_PASSPHRASE")
        env["PYTHONUNBUFFERED"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        // Plain threads, not the GCD pool: a dozen blocked readers must not starve anything else.
        for (pipe, stream) in [(out, Stream.stdout), (err, Stream.stderr)] {
            readers.enter()
            let handle = pipe.fileHandleForReading
            Thread { [self] in
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    lock.withLock { collected[stream, default: ""] += String(decoding: data, as: UTF8.self) }
                }
                readers.leave()
            }.start()
        }
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func text(_ stream: Stream) -> String { lock.withLock { collected[stream] ?? "" } }

    /// Complete lines only (a line still being written is left out).
    func lines(_ stream: Stream) -> [String] {
        let all = text(stream)
        var lines = all.components(separatedBy: "\n")
        lines.removeLast()  // empty after a final newline, or a partial line
        return lines
    }

    /// Polls (every 20 ms, at most `timeout` seconds) for a complete line at index ≥ `from` matching `predicate`.
    func waitForLine(
        _ stream: Stream, from: Int = 0, timeout: TimeInterval = 10, where predicate: (String) -> Bool
    ) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let current = lines(stream)
            if from < current.count, let line = current[from...].first(where: predicate) { return line }
            if !process.isRunning {
                // The process ended: its last output may still be in flight.
                _ = readers.wait(timeout: .now() + 1)
                let final = lines(stream)
                return from < final.count ? final[from...].first(where: predicate) : nil
            }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }

    /// Writes one line to the process's stdin.
    func send(_ line: String) {
        try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    func closeInput() { try? input.fileHandleForWriting.close() }

    func signal(_ number: Int32) { if process.isRunning { kill(process.processIdentifier, number) } }

    /// Waits at most `timeout` seconds for the process to exit; its status, or nil if it is still running.
    @discardableResult
    func waitForExit(timeout: TimeInterval = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { return nil }
        process.waitUntilExit()
        _ = readers.wait(timeout: .now() + 2)
        return process.terminationStatus
    }

    /// SIGTERM, then SIGKILL after `grace` seconds; always returns with the process gone.
    func stop(grace: TimeInterval = 5) {
        guard process.isRunning else { return }
        signal(SIGTERM)
        if waitForExit(timeout: grace) == nil {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// SIGKILL and reap.
    func forceKill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        closeInput()
    }
}

/// The `key=value` pairs of `text`, separated by `separator` (and spaces around it); a value may be double-quoted,
/// with a backslash escaping the next character (RFC 9110 quoted-string). Words without `=` are skipped. Used for
/// the proxy's text log lines and for XFCC elements.
func keyValuePairs(_ text: String, separator: Character) -> [(key: String, value: String)] {
    var pairs: [(String, String)] = []
    var index = text.startIndex
    func advance() { index = text.index(after: index) }
    while index < text.endIndex {
        while index < text.endIndex, text[index] == " " || text[index] == separator { advance() }
        let keyStart = index
        while index < text.endIndex, text[index] != "=", text[index] != separator { advance() }
        guard index < text.endIndex, text[index] == "=" else { continue }
        let key = String(text[keyStart..<index]).trimmingCharacters(in: .whitespaces)
        advance()
        var value = ""
        if index < text.endIndex, text[index] == "\"" {
            advance()
            while index < text.endIndex, text[index] != "\"" {
                if text[index] == "\\", text.index(after: index) < text.endIndex { advance() }
                value.append(text[index])
                advance()
            }
            if index < text.endIndex { advance() }
        } else {
            while index < text.endIndex, text[index] != separator {
                value.append(text[index])
                advance()
            }
        }
        pairs.append((key, value))
    }
    return pairs
}

/// One `key=value` log line of the proxy (text format), split into its fields; quoted values are unquoted.
struct ProxyLogLine: CustomStringConvertible {
    let line: String
    let fields: [String: String]

    init(_ line: String) {
        self.line = line
        var fields: [String: String] = [:]
        for (key, value) in keyValuePairs(line, separator: " ") { fields[key] = value }
        self.fields = fields
    }

    subscript(_ key: String) -> String? { fields[key] }
    var decision: String? { fields["decision"] }
    var reason: String { fields["reason"] ?? "" }
    var identity: String? { fields["identity"] }
    var description: String { line }
}

/// A running `symbolon proxy server` or `proxy client`, started with port 0 (or a unix socket) and found by its
/// "listening" line.
final class ProxyUnderTest: Sendable {
    let run: RunningProcess
    /// Where it listens: `127.0.0.1:PORT` or `unix:PATH`.
    let address: String

    private init(run: RunningProcess, address: String) {
        self.run = run
        self.address = address
    }

    /// Starts `symbolon proxy <mode> <arguments>` and waits (10 s at most) for its "listening" line.
    static func start(_ mode: String, _ arguments: [String]) throws -> ProxyUnderTest {
        let run = try RunningProcess(ProcessRunner.symbolonPath, ["proxy", mode] + arguments)
        // Text: "<time> listening proxy server on …"; JSON: {"event":"listening","message":"proxy server on …"}.
        let listening = run.waitForLine(.stderr) {
            $0.contains(" listening ") || $0.contains("\"event\":\"listening\"")
        }
        guard let line = listening else {
            run.stop()
            throw SetupError("proxy \(mode) did not report listening: \(run.text(.stderr))")
        }
        // "<time> listening proxy server on 127.0.0.1:18443 → 127.0.0.1:18080; policy: …"
        guard let on = line.range(of: " on "), let arrow = line.range(of: " → ", range: on.upperBound..<line.endIndex)
        else {
            run.stop()
            throw SetupError("cannot find the address in: \(line)")
        }
        return ProxyUnderTest(run: run, address: String(line[on.upperBound..<arrow.lowerBound]))
    }

    static func server(_ arguments: [String]) throws -> ProxyUnderTest { try start("server", arguments) }
    static func client(_ arguments: [String]) throws -> ProxyUnderTest { try start("client", arguments) }

    var port: String { String(address.split(separator: ":").last ?? "") }
    /// `https://localhost:PORT/` (the server certificates carry DNS:localhost).
    var url: String { "https://localhost:\(port)/" }

    var log: [String] { run.lines(.stderr) }
    var logText: String { run.text(.stderr) }
    var connectionLines: [ProxyLogLine] { log.filter { $0.contains(" conn ") }.map(ProxyLogLine.init) }

    /// The first connection line at index ≥ `from` of the log matching `predicate`, waiting up to `timeout`.
    func connection(
        from: Int = 0, timeout: TimeInterval = 10, where predicate: (ProxyLogLine) -> Bool = { _ in true }
    ) -> ProxyLogLine? {
        run.waitForLine(.stderr, from: from, timeout: timeout) {
            $0.contains(" conn ") && predicate(ProxyLogLine($0))
        }.map(ProxyLogLine.init)
    }

    /// The first lifecycle line `<time> <event> …` at index ≥ `from`.
    func event(_ name: String, from: Int = 0, timeout: TimeInterval = 10) -> String? {
        run.waitForLine(.stderr, from: from, timeout: timeout) {
            $0.split(separator: " ").dropFirst().first == Substring(name)
        }
    }

    func stop() { run.stop() }
}

/// The Python helpers in Tests/Fixtures/proxy_tools.py (outside the test target, so SwiftPM does not ask to declare it): a backend, TLS clients, load and hostile clients.
enum ProxyTools {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/proxy_tools.py").path

    /// Runs one mode to completion (bounded by `timeout`).
    static func run(_ arguments: [String], timeout: TimeInterval = 30) throws -> ProcessResult {
        try ProcessRunner.run("python3", [script] + arguments, timeout: timeout)
    }

    /// Starts a mode that keeps running (backend, interactive).
    static func start(_ arguments: [String]) throws -> RunningProcess {
        try RunningProcess("python3", [script] + arguments)
    }

    /// The TLS options of a client holding `credentials` (nil: no certificate) and trusting `ca`.
    static func tls(_ credentials: IssuedLeaf?, ca: String) -> [String] {
        (credentials.map { ["--cert", $0.cert, "--key", $0.key] } ?? []) + ["--ca", ca]
    }

    /// One echo round trip through `address`; the tool's output ("echo …" or "error …").
    static func echo(_ address: String, _ message: String, _ options: [String]) throws -> ProcessResult {
        try run(["client", address, message] + options, timeout: 20)
    }
}

/// A Python backend on 127.0.0.1 (port 0) or a unix socket: `echo` echoes bytes, `http` answers one request with
/// "hello from the backend, connection N"; with `proxyProtocol` it first parses a PROXY v2 header and reports it.
final class Backend: Sendable {
    let run: RunningProcess
    /// `127.0.0.1:PORT` or `unix:PATH`.
    let address: String

    init(_ mode: String, unixSocket: String? = nil, proxyProtocol: Bool = false) throws {
        run = try ProxyTools.start(
            ["backend", mode, unixSocket.map { "unix:" + $0 } ?? "tcp"] + (proxyProtocol ? ["--proxy-protocol"] : []))
        guard let line = run.waitForLine(.stdout, where: { $0.hasPrefix("port ") || $0.hasPrefix("unix ") }) else {
            run.stop()
            throw SetupError("the backend did not start: \(run.text(.stdout)) \(run.text(.stderr))")
        }
        let value = line.split(separator: " ")[1]
        address = line.hasPrefix("port ") ? "127.0.0.1:\(value)" : "unix:\(value)"
    }

    /// SIGKILL: a backend has nothing to drain (and may have inherited SIGTERM ignored from the test runner).
    func stop() { run.forceKill() }
    deinit { run.forceKill() }
}

/// The certificates every proxy test draws from, issued once with the real CLI: a CA whose intermediate is
/// constrained to DNS localhost, server and client leaves, and the misfits the proxy must refuse.
struct ProxyPKI: Sendable {
    static let shared = Result { try ProxyPKI() }

    let ca: TestCA
    /// A second, unrelated CA with the same trust domain.
    let otherCA: TestCA
    /// The proxy server: spiffe://acme.internal/ns/proxy/server + DNS:localhost (service: serverAuth+clientAuth).
    let server: IssuedLeaf
    /// Another server: spiffe://acme.internal/ns/proxy/impostor + DNS:localhost.
    let impostor: IssuedLeaf
    /// The allowed client: spiffe://acme.internal/ns/payments/api.
    let client: IssuedLeaf
    /// A valid client outside the policy: spiffe://acme.internal/ns/web/frontend.
    let outsider: IssuedLeaf
    /// serverAuth only (`--profile server --dns localhost`).
    let serverOnly: IssuedLeaf
    /// spiffe://acme.internal/ns/payments/expired, expired yesterday (signed with openssl ca).
    let expired: IssuedLeaf
    /// spiffe://acme.internal/ns/payments/api issued by `otherCA`.
    let foreign: IssuedLeaf

    static let allowedPattern = "spiffe://acme.internal/ns/payments/*"
    static let clientID = "spiffe://acme.internal/ns/payments/api"
    static let serverID = "spiffe://acme.internal/ns/proxy/server"
    static let impostorID = "spiffe://acme.internal/ns/proxy/impostor"

    init() throws {
        ca = try TestCA(label: "proxy", dnsConstraints: ["localhost"])
        otherCA = try TestCA(label: "proxy-other", name: "Other", dnsConstraints: ["localhost"])
        server = try ca.issue("service", ["--spiffe-id", Self.serverID, "--dns", "localhost"], as: "server")
        impostor = try ca.issue("service", ["--spiffe-id", Self.impostorID, "--dns", "localhost"], as: "impostor")
        client = try ca.issue("service", ["--spiffe-id", Self.clientID], as: "client")
        outsider = try ca.issue("service", ["--spiffe-id", "spiffe://acme.internal/ns/web/frontend"], as: "outsider")
        serverOnly = try ca.issue("server", ["--dns", "localhost"], as: "server-only")
        foreign = try otherCA.issue("service", ["--spiffe-id", Self.clientID], as: "foreign")
        expired = try Self.forgeExpired(ca, spiffeID: "spiffe://acme.internal/ns/payments/expired", as: "expired")
    }

    /// Issues a fresh service client (for tests that revoke it).
    func issueClient(_ name: String, spiffeID: String) throws -> IssuedLeaf {
        try ca.issue("service", ["--spiffe-id", spiffeID], as: name)
    }

    /// A clientAuth leaf valid from two days ago to yesterday, signed by the intermediate with `openssl ca` (the
    /// only way to set both dates in OpenSSL 3.0); its chain file is leaf + intermediate like `ca issue` writes.
    static func forgeExpired(_ ca: TestCA, spiffeID: String, as name: String) throws -> IssuedLeaf {
        let work = ca.file(name + "-openssl-ca")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try "".write(toFile: work + "/index.txt", atomically: true, encoding: .utf8)
        try "1000\n".write(toFile: work + "/serial", atomically: true, encoding: .utf8)
        try """
        [ca]
        default_ca = forge
        [forge]
        database = \(work)/index.txt
        new_certs_dir = \(work)
        serial = \(work)/serial
        default_md = sha256
        policy = anything
        unique_subject = no
        [anything]
        commonName = optional
        [leaf]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = clientAuth,serverAuth
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        subjectAltName = URI:\(spiffeID)

        """.write(toFile: work + "/openssl.cnf", atomically: true, encoding: .utf8)
        let key = ca.file(name + "-key.pem")
        let csr = work + "/leaf.csr"
        let leaf = work + "/leaf.pem"
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        let start = formatter.string(from: Date().addingTimeInterval(-2 * 86_400))
        let end = formatter.string(from: Date().addingTimeInterval(-86_400))
        for step in [
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
            ["req", "-new", "-key", key, "-subj", "/CN=\(name)", "-out", csr],
            [
                "ca", "-batch", "-config", work + "/openssl.cnf", "-cert", ca.intermediate, "-keyfile",
                ca.intermediateKey, "-in", csr, "-out", leaf, "-startdate", start, "-enddate", end, "-extensions",
                "leaf", "-notext",
            ],
        ] {
            let result = try E2E.openssl(step)
            guard result.status == 0 else { throw SetupError("openssl \(step) failed: \(result)") }
        }
        let cert = ca.file(name + ".pem")
        try (E2E.read(leaf) + E2E.read(ca.intermediate)).write(toFile: cert, atomically: true, encoding: .utf8)
        return IssuedLeaf(cert: cert, key: key, serial: try E2E.opensslSerial(cert))
    }

    /// A clientAuth leaf with `subject` (an openssl -subj, UTF-8) and extra extension lines, signed by the
    /// intermediate with openssl alone, behind the CA's back; its chain file is leaf + intermediate.
    static func forgeLeaf(_ ca: TestCA, subject: String, extensions: [String], as name: String) throws -> IssuedLeaf {
        let key = ca.file(name + "-key.pem")
        let csr = ca.file(name + ".csr")
        let ext = ca.file(name + ".ext")
        let leaf = ca.file(name + "-leaf.pem")
        let lines =
            ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=clientAuth"]
            + extensions
        try (lines.joined(separator: "\n") + "\n").write(toFile: ext, atomically: true, encoding: .utf8)
        let serial = "0x" + (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 1...127)) }.joined()
        for step in [
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
            ["req", "-new", "-utf8", "-key", key, "-subj", subject, "-out", csr],
            [
                "x509", "-req", "-in", csr, "-CA", ca.intermediate, "-CAkey", ca.intermediateKey, "-set_serial", serial,
                "-days", "1", "-extfile", ext, "-out", leaf,
            ],
        ] {
            let result = try E2E.openssl(step)
            guard result.status == 0 else { throw SetupError("openssl \(step) failed: \(result)") }
        }
        let cert = ca.file(name + ".pem")
        try (E2E.read(leaf) + E2E.read(ca.intermediate)).write(toFile: cert, atomically: true, encoding: .utf8)
        return IssuedLeaf(cert: cert, key: key, serial: try E2E.opensslSerial(cert))
    }

    /// The server's usual arguments: listen on a free port, forward to `target`, present `server`, trust the root.
    func serverArguments(target: String, listen: String = "127.0.0.1:0", certificate: IssuedLeaf? = nil) -> [String] {
        let certificate = certificate ?? server
        return [
            "--listen", listen, "--target", target, "--cert", certificate.cert, "--key", certificate.key, "--ca",
            ca.root,
        ]
    }
}

/// curl against the proxy: `--cacert` the root, optionally `--cert/--key`, 10 s at most.
enum Curl {
    static func get(_ url: String, as credentials: IssuedLeaf?, ca: String, extra: [String] = []) throws
        -> ProcessResult
    {
        try ProcessRunner.run(
            "curl",
            ["-sS", "--max-time", "10", "--cacert", ca]
                + (credentials.map { ["--cert", $0.cert, "--key", $0.key] } ?? []) + extra + [url], timeout: 20)
    }
}

/// Writes `text` to `path` atomically: a temporary file next to it, then rename(2), as a deployment would.
func replaceFile(_ path: String, with text: String) throws {
    let temporary = path + ".tmp-\(UInt32.random(in: 0...UInt32.max))"
    try text.write(toFile: temporary, atomically: false, encoding: .utf8)
    guard rename(temporary, path) == 0 else { throw SetupError("rename \(temporary) → \(path): errno \(errno)") }
}
