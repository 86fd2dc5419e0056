import Foundation
import Proxy
import Testing

@Suite("connection log lines")
struct ConnectionLoggerTests {
    func captured(_ format: ConnectionLogger.Format, _ body: (ConnectionLogger) -> Void) throws -> String {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let logger = ConnectionLogger(format: format, descriptor: fds[1])
        body(logger)
        close(fds[1])
        let data = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self)
    }

    func sample() -> ConnectionRecord {
        var record = ConnectionRecord(peer: "127.0.0.1:5000")
        record.identity = "spiffe://acme.internal/ns/web/api"
        record.tlsVersion = "TLS1.3"
        record.cipher = "AES-256-GCM"
        record.decision = .denied
        record.reason = "not authorized: \"quoted\" and\nnewline"
        record.bytesIn = 10
        record.bytesOut = 20
        record.durationMilliseconds = 1.25
        return record
    }

    @Test("a JSON line parses and carries every field, with hostile characters escaped")
    func json() throws {
        let output = try captured(.json) { $0.log(sample()) }
        let lines = output.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["event"] as? String == "connection")
        #expect(object["identity"] as? String == "spiffe://acme.internal/ns/web/api")
        #expect(object["decision"] as? String == "denied")
        #expect(object["reason"] as? String == "not authorized: \"quoted\" and\nnewline")
        #expect(object["bytes_in"] as? Int == 10)
        #expect(object["bytes_out"] as? Int == 20)
        #expect(object["resumed"] as? Bool == false)
        for key in ["time", "peer", "tls", "cipher", "duration_ms"] { #expect(object[key] != nil) }
    }

    @Test("a text line is one line with key=value pairs and the reason quoted")
    func text() throws {
        let output = try captured(.text) { $0.log(sample()) }
        #expect(output.split(separator: "\n").count == 1)
        #expect(output.contains("decision=denied"))
        #expect(output.contains("identity=spiffe://acme.internal/ns/web/api"))
        #expect(output.contains("reason=\"not authorized: \\\"quoted\\\" and\\nnewline\""))
    }
}
