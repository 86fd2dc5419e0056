import Foundation
import TestSupport
import Testing

/// The Python peers in Tests/Fixtures/http_tools.py for `proxy server --mode http`: an echo backend and clients
/// (Python `requests`, `http.client`, raw bytes over TLS, streaming, a PyJWT checker). They run with Debian's
/// /usr/bin/python3, which has python3-requests, python3-jwt and python3-cryptography.
enum HTTPTools {
    static let python = "/usr/bin/python3"
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/http_tools.py").path

    /// Runs one mode to completion (bounded by `timeout`).
    static func run(_ arguments: [String], timeout: TimeInterval = 30) throws -> ProcessResult {
        try ProcessRunner.run(python, [script] + arguments, environment: ["PYTHONUNBUFFERED": "1"], timeout: timeout)
    }

    /// Starts a mode that keeps running (the backend).
    static func start(_ arguments: [String]) throws -> RunningProcess {
        try RunningProcess(python, [script] + arguments)
    }

    /// The TLS options of a client holding `credentials` (nil: no certificate) and trusting `ca`.
    static func tls(_ credentials: IssuedLeaf?, ca: String) -> [String] {
        (credentials.map { ["--cert", $0.cert, "--key", $0.key] } ?? []) + ["--ca", ca]
    }

    /// The last stdout line of a run, as a JSON object.
    static func json(_ result: ProcessResult) throws -> [String: Any] {
        let line = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw SetupError("not a JSON line from http_tools.py: \(result)")
        }
        return object
    }

    /// Every stdout line of a run, as JSON objects.
    static func jsonLines(_ result: ProcessResult) throws -> [[String: Any]] {
        try result.stdout.split(separator: "\n").map { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw SetupError("not a JSON line from http_tools.py: \(line)\n\(result)")
            }
            return object
        }
    }
}

/// Header fields as a list of (name, value) in arrival order, looked up case-insensitively.
struct HeaderList: CustomStringConvertible {
    let fields: [(name: String, value: String)]

    init(_ any: Any?) {
        fields = ((any as? [[Any]]) ?? []).compactMap { pair in
            guard pair.count == 2, let name = pair[0] as? String, let value = pair[1] as? String else { return nil }
            return (name, value)
        }
    }

    func values(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    func value(_ name: String) -> String? { values(name).first }
    func has(_ name: String) -> Bool { !values(name).isEmpty }
    var description: String { fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n") }
}

/// What the backend received, as it echoed it.
struct Echo: CustomStringConvertible {
    let object: [String: Any]

    init?(_ any: Any?) {
        guard let object = any as? [String: Any], object["method"] != nil else { return nil }
        self.object = object
    }

    init?(json text: String) {
        self.init(try? JSONSerialization.jsonObject(with: Data(text.utf8)))
    }

    var method: String { object["method"] as? String ?? "" }
    var target: String { object["target"] as? String ?? "" }
    var version: String { object["version"] as? String ?? "" }
    var headers: HeaderList { HeaderList(object["headers"]) }
    var trailers: HeaderList { HeaderList(object["trailers"]) }
    var bodyLength: Int { (object["body_length"] as? NSNumber)?.intValue ?? -1 }
    var bodySHA256: String { object["body_sha256"] as? String ?? "" }
    var body: String { object["body"] as? String ?? "" }
    var continueSent: Bool { object["continue_sent"] as? Bool ?? false }
    /// The backend's number for the connection the request came on, and the request's index on it (from 1).
    var connection: Int { (object["connection"] as? NSNumber)?.intValue ?? -1 }
    var index: Int { (object["index"] as? NSNumber)?.intValue ?? -1 }
    var description: String { "\(method) \(target) \(version)\n\(headers)" }
}

/// One response as a client saw it (the `request` mode, or a response parsed from raw bytes).
struct HTTPReply: CustomStringConvertible {
    let status: Int
    let headers: HeaderList
    let body: String
    let statusLine: String
    let error: String?

    init(_ object: [String: Any]) {
        status = (object["status"] as? NSNumber)?.intValue ?? -1
        headers = HeaderList(object["headers"])
        body = object["body"] as? String ?? ""
        statusLine = object["status_line"] as? String ?? ""
        error = object["error"] as? String
    }

    var echo: Echo? { Echo(json: body) }
    var description: String {
        if let error { return "error: \(error)" }
        return "\(status) \(statusLine)\n\(headers)\n\n\(body.prefix(2000))"
    }
}

/// The Python echo backend (`http_tools.py backend`) on 127.0.0.1, port 0; it prints one line per connection,
/// request and close.
final class HTTPBackend: Sendable {
    let run: RunningProcess
    /// `127.0.0.1:PORT`.
    let address: String

    init() throws {
        run = try HTTPTools.start(["backend"])
        guard let line = run.waitForLine(.stdout, where: { $0.hasPrefix("port ") }) else {
            run.stop()
            throw SetupError("the HTTP backend did not start: \(run.text(.stdout)) \(run.text(.stderr))")
        }
        address = "127.0.0.1:" + line.split(separator: " ")[1]
    }

    var lines: [String] { run.lines(.stdout) }
    var output: String { run.text(.stdout) + run.text(.stderr) }
    /// "request conn=N index=K method=M target=T version=V" lines.
    var requestLines: [String] { lines.filter { $0.hasPrefix("request ") } }
    /// Connections the backend accepted.
    var connectionCount: Int { lines.filter { $0.hasPrefix("conn ") && $0.hasSuffix(" open") }.count }

    /// Waits (bounded) for a line at index ≥ `from` matching `predicate`.
    func waitForLine(from: Int = 0, timeout: TimeInterval = 10, where predicate: (String) -> Bool) -> String? {
        run.waitForLine(.stdout, from: from, timeout: timeout, where: predicate)
    }

    /// Bytes the backend read on connections that closed, from "conn N closed bytes=B" lines.
    var closedConnectionBytes: [Int] {
        lines.filter { $0.hasPrefix("conn ") && $0.contains(" closed ") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("bytes=") }.flatMap { Int($0.dropFirst(6)) }
        }
    }

    func stop() { run.forceKill() }
    deinit { run.forceKill() }
}

/// A backend, and `proxy server --mode http` in front of it.
struct HTTPProxySetup {
    let pki: ProxyPKI
    let backend: HTTPBackend
    let proxy: ProxyUnderTest

    /// `https://localhost:PORT` + `path`.
    func url(_ path: String) -> String { "https://localhost:\(proxy.port)\(path)" }

    func stop() {
        proxy.stop()
        backend.stop()
    }

    /// Starts a backend and an HTTP proxy allowing `payments/*` at the connection level, plus `extra` options.
    static func start(_ extra: [String] = [], allow: [String]? = nil, target: String? = nil) throws -> HTTPProxySetup {
        let pki = try ProxyPKI.shared.get()
        let backend = try HTTPBackend()
        let proxy = try ProxyUnderTest.server(
            pki.serverArguments(target: target ?? backend.address) + ["--mode", "http"]
                + (allow ?? ["--allow-spiffe-id", ProxyPKI.allowedPattern]) + extra)
        return HTTPProxySetup(pki: pki, backend: backend, proxy: proxy)
    }

    /// One request through the proxy with Python (`requests` or `http.client`).
    func python(
        _ path: String, client: String = "requests", as credentials: IssuedLeaf? = nil, method: String = "GET",
        headers: [String] = [], data: String? = nil
    ) throws -> HTTPReply {
        try HTTPClients.python(
            url(path), client: client, as: credentials ?? pki.client, ca: pki.ca.root, method: method,
            headers: headers, data: data)
    }

    /// One request through the proxy with curl.
    func curl(_ path: String, as credentials: IssuedLeaf? = nil, _ extra: [String] = []) throws -> CurlReply {
        try HTTPClients.curl(url(path), as: credentials ?? pki.client, ca: pki.ca.root, extra)
    }

    /// Raw sessions over TLS with the allowed client's certificate (or `credentials`).
    func raw(_ sessions: [RawSession], as credentials: IssuedLeaf? = nil, timeout: TimeInterval = 120) throws
        -> [RawResult]
    {
        try RawSession.run(
            sessions, address: proxy.address, as: credentials ?? pki.client, ca: pki.ca.root,
            timeout: timeout)
    }
}

/// curl's view of one exchange: its exit status, the HTTP status, the body, and its -v trace.
struct CurlReply: CustomStringConvertible {
    let result: ProcessResult
    let status: Int
    let body: String
    var echo: Echo? { Echo(json: body) }
    var description: String { "curl exit \(result.status), HTTP \(status)\n\(body.prefix(2000))\n\(result.stderr)" }
}

enum HTTPClients {
    static func python(
        _ url: String, client: String, as credentials: IssuedLeaf?, ca: String, method: String = "GET",
        headers: [String] = [], data: String? = nil
    ) throws -> HTTPReply {
        let result = try HTTPTools.run(
            ["request", url, "--client", client, "-X", method] + HTTPTools.tls(credentials, ca: ca)
                + headers.flatMap { ["-H", $0] } + (data.map { ["--data", $0] } ?? []), timeout: 30)
        return HTTPReply(try HTTPTools.json(result))
    }

    /// curl -sS with the client certificate; the HTTP status comes from `-w`, the body from stdout.
    static func curl(_ url: String, as credentials: IssuedLeaf?, ca: String, _ extra: [String]) throws -> CurlReply {
        let marker = "\n--curl-status="
        let result = try ProcessRunner.run(
            "curl",
            ["-sS", "--max-time", "60", "--cacert", ca]
                + (credentials.map { ["--cert", $0.cert, "--key", $0.key] } ?? [])
                + ["-w", marker + "%{http_code}"] + extra + [url], timeout: 90)
        guard let range = result.stdout.range(of: marker, options: .backwards) else {
            return CurlReply(result: result, status: -1, body: result.stdout)
        }
        return CurlReply(
            result: result, status: Int(result.stdout[range.upperBound...].trimmingCharacters(in: .whitespaces)) ?? -1,
            body: String(result.stdout[..<range.lowerBound]))
    }
}

/// A scripted connection for `http_tools.py raw`: exact bytes over TLS, then reads.
struct RawSession {
    enum Step {
        /// sendall of exactly these bytes, in one write.
        case send([UInt8])
        /// Read until `count` more complete responses (`head`: responses to HEAD have no body).
        case responses(Int, timeout: TimeInterval = 10, head: Bool = false)
        /// Read `count` raw bytes (after a 101).
        case bytes(Int, timeout: TimeInterval = 10)
        /// Read until the peer closes, at most `seconds`.
        case eof(TimeInterval)
        case pause(TimeInterval)
    }

    let name: String
    let steps: [Step]

    init(_ name: String, _ steps: [Step]) {
        self.name = name
        self.steps = steps
    }

    /// Send `bytes`, then read until the peer closes (10 s at most): what every refusal must end with.
    static func refusal(_ name: String, _ bytes: [UInt8]) -> RawSession { RawSession(name, [.send(bytes), .eof(10)]) }

    var json: [String: Any] {
        [
            "name": name,
            "steps": steps.map { step -> [String: Any] in
                switch step {
                case .send(let bytes): return ["send": Data(bytes).base64EncodedString()]
                case .responses(let count, let timeout, let head):
                    return ["responses": count, "timeout": timeout, "head": head]
                case .bytes(let count, let timeout): return ["bytes": count, "timeout": timeout]
                case .eof(let seconds): return ["eof": seconds]
                case .pause(let seconds): return ["pause": seconds]
                }
            },
        ]
    }

    static func run(
        _ sessions: [RawSession], address: String, as credentials: IssuedLeaf, ca: String, timeout: TimeInterval
    ) throws -> [RawResult] {
        let scratch = TemporaryDirectory("symbolon-e2e-http-raw")
        let script: [String: Any] = [
            "address": address, "cert": credentials.cert, "key": credentials.key, "ca": ca,
            "sessions": sessions.map(\.json),
        ]
        let path = scratch.file("script.json")
        try JSONSerialization.data(withJSONObject: script).write(to: URL(fileURLWithPath: path))
        let result = try HTTPTools.run(["raw", path], timeout: timeout)
        let lines = try HTTPTools.jsonLines(result)
        guard lines.count == sessions.count else {
            throw SetupError("raw: \(sessions.count) sessions but \(lines.count) results: \(result)")
        }
        return lines.map(RawResult.init)
    }
}

/// What one raw session saw.
struct RawResult: CustomStringConvertible {
    let name: String
    let responses: [HTTPReply]
    let raw: [UInt8]
    /// "eof", "reset", "timeout" or "open".
    let end: String
    let error: String?
    let sendError: String?
    let leftover: String?

    init(_ object: [String: Any]) {
        name = object["name"] as? String ?? ""
        responses = ((object["responses"] as? [[String: Any]]) ?? []).map(HTTPReply.init)
        raw = [UInt8](Data(base64Encoded: object["raw"] as? String ?? "") ?? Data())
        end = object["end"] as? String ?? ""
        error = object["error"] as? String
        sendError = object["send_error"] as? String
        leftover = object["leftover"] as? String
    }

    /// Closed by the peer: an EOF (or a reset once the response was read).
    var closed: Bool { end == "eof" || end == "reset" }

    var description: String {
        "\(name): end=\(end) error=\(error ?? "-") send_error=\(sendError ?? "-") leftover=\(leftover.map { String($0.prefix(200)) } ?? "-")\n"
            + responses.map { "  " + $0.description.replacingOccurrences(of: "\n", with: "\n  ") }.joined(
                separator: "\n")
    }
}

extension ProxyUnderTest {
    /// The access-log lines ("<time> request …") of the HTTP mode.
    var requestLines: [ProxyLogLine] { log.filter { $0.contains(" request ") }.map(ProxyLogLine.init) }

    /// The first request line at index ≥ `from` of the log matching `predicate`, waiting up to `timeout`.
    func requestLine(
        from: Int = 0, timeout: TimeInterval = 10, where predicate: (ProxyLogLine) -> Bool = { _ in true }
    ) -> ProxyLogLine? {
        run.waitForLine(.stderr, from: from, timeout: timeout) {
            $0.contains(" request ") && predicate(ProxyLogLine($0))
        }.map(ProxyLogLine.init)
    }

    /// Peak resident set size (VmHWM, KiB) of the proxy process, from /proc.
    var peakRSSKiB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(run.pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return nil }
        return line.split(separator: " ").compactMap { Int($0) }.first
    }
}

/// Facts about certificates and keys, computed with openssl — independently of the proxy.
enum CertFacts {
    /// The DER of the first certificate in a PEM file.
    static func der(_ path: String) -> [UInt8] {
        E2E.pemBlocks(E2E.read(path)).first { $0.label == "CERTIFICATE" }?.der ?? []
    }

    /// The DER of every certificate in a PEM file, in order.
    static func ders(_ path: String) -> [[UInt8]] {
        E2E.pemBlocks(E2E.read(path)).filter { $0.label == "CERTIFICATE" }.map(\.der)
    }

    /// `openssl x509 -outform der | openssl dgst -sha256`, as lowercase hex.
    static func sha256Hex(ofCertificate path: String) throws -> String {
        let result = try E2E.sh(
            "openssl x509 -in \(E2E.quote(path)) -outform der | openssl dgst -sha256 -r")
        guard result.status == 0, let hex = result.stdout.split(separator: " ").first, hex.count == 64 else {
            throw SetupError("sha256 of \(path): \(result)")
        }
        return hex.lowercased()
    }

    /// base64url (no padding) of SHA-256 over the certificate's DER: the `cnf.x5t#S256` value.
    static func x5tS256(ofCertificate path: String) throws -> String {
        try base64url(
            "openssl x509 -in \(E2E.quote(path)) -outform der | openssl dgst -sha256 -binary | base64 -w0")
    }

    /// base64url (no padding) of SHA-256 over the key's SubjectPublicKeyInfo: the JWS `kid`.
    static func kid(ofKey path: String) throws -> String {
        try base64url(
            "openssl pkey -in \(E2E.quote(path)) -pubout -outform der | openssl dgst -sha256 -binary | base64 -w0")
    }

    private static func base64url(_ pipeline: String) throws -> String {
        let result = try E2E.sh(pipeline)
        let text = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, text.count == 44 else { throw SetupError("\(pipeline): \(result)") }
        return text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The subject in RFC 2253 form, as `openssl x509 -nameopt RFC2253` prints it.
    static func subjectRFC2253(_ path: String) throws -> String {
        let result = try E2E.openssl(["x509", "-in", path, "-noout", "-subject", "-nameopt", "RFC2253"])
        guard result.status == 0 else { throw SetupError("subject of \(path): \(result)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(
            of: "subject=", with: "")
    }

    /// A fresh signing key: `openssl genpkey` (EC P-256/P-384 or Ed25519) and its public key (`openssl pkey
    /// -pubout`), written into `directory`.
    static func signingKey(_ kind: String, in directory: TemporaryDirectory, name: String? = nil) throws -> (
        key: String, publicKey: String
    ) {
        let key = directory.file("sign-\(name ?? kind).key")
        let publicKey = directory.file("sign-\(name ?? kind).pub")
        let generate: [String] =
            switch kind {
            case "P-256": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]
            case "P-384": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", key]
            case "Ed25519": ["genpkey", "-algorithm", "ED25519", "-out", key]
            default: ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key]
            }
        for step in [generate, ["pkey", "-in", key, "-pubout", "-out", publicKey]] {
            let result = try E2E.openssl(step)
            guard result.status == 0 else { throw SetupError("openssl \(step): \(result)") }
        }
        return (key, publicKey)
    }
}

/// Percent-decoding for XFCC `Cert=`/`Chain=` values (URL-encoded PEM).
func urlDecode(_ text: String) -> String? { text.removingPercentEncoding }

/// The fields of one XFCC element (`key=value;…`, values possibly double-quoted with `\"` inside), in order.
func xfccFields(_ element: String) -> [(key: String, value: String)] {
    keyValuePairs(element, separator: ";")
}

/// Bytes of an HTTP message written with `\r\n` spelled out, for raw sessions.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// One kept-alive `http.client` connection (`http_tools.py session`), driven a request at a time.
final class HTTPSession {
    let run: RunningProcess

    init(address: String, as credentials: IssuedLeaf, ca: String) throws {
        run = try HTTPTools.start(["session", address] + HTTPTools.tls(credentials, ca: ca))
        guard run.waitForLine(.stdout, where: { $0 == "ready" }) != nil else {
            throw SetupError("session did not start: \(run.text(.stdout)) \(run.text(.stderr))")
        }
    }

    /// One request on the connection; the tool's JSON answer ({"status", "local_port", "echo"} or {"error"}).
    func request(_ method: String, _ target: String) throws -> [String: Any] {
        let mark = run.lines(.stdout).count
        run.send("\(method) \(target)")
        guard let line = run.waitForLine(.stdout, from: mark, timeout: 30, where: { $0.hasPrefix("{") }),
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { throw SetupError("no answer from the session: \(run.text(.stdout)) \(run.text(.stderr))") }
        return object
    }

    func stop() {
        run.send("quit")
        if run.waitForExit(timeout: 5) == nil { run.forceKill() }
    }
}

extension Dictionary where Key == String, Value == Any {
    var status: Int { (self["status"] as? NSNumber)?.intValue ?? -1 }
    var localPort: Int { (self["local_port"] as? NSNumber)?.intValue ?? -1 }
}
