import Foundation
import TestSupport

/// A real peer for the tests: a Python server (`peer_server.py` modes) running in the background on a loopback
/// port it chose itself, stopped (SIGTERM, then waited for) when the test is done.
final class PeerProcess {
    let process: Process
    let port: Int
    let log: String

    /// Starts `/usr/bin/python3 -c SCRIPT MODE PORTFILE ARGS…` and waits (bounded) for it to write its port.
    init(mode: String, arguments: [String] = [], directory: TemporaryDirectory) throws {
        let portFile = directory.file("\(mode)-\(UUID().uuidString).port")
        log = directory.file("\(mode)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", PeerProcess.script, mode, portFile] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        self.process = process
        var port: Int?
        for _ in 0..<1000 where port == nil && process.isRunning {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let value = Int(text) {
                port = value
            } else {
                usleep(10_000)
            }
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw PeerFailure(description: "the Python peer (\(mode)) did not start: \(output)")
        }
        self.port = port
    }

    /// Stops the peer (SIGKILL: a test runner may hand its children SIGTERM ignored) and waits for it to exit.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    struct PeerFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Modes: `http` and `https` (routes below), `garbage` (answers every connection with bytes that are not HTTP),
    /// `silent` (accepts, reads, never answers). `https` takes CHAIN KEY ROOT and requires a client certificate.
    static let script = #"""
        import http.server, os, socket, ssl, sys, threading, time
        mode, port_file = sys.argv[1], sys.argv[2]

        def announce(port):
            with open(port_file + '.tmp', 'w') as f:
                f.write(str(port))
            os.rename(port_file + '.tmp', port_file)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            def log_message(self, *args):
                pass
            def reply(self, body, status=200):
                self.send_response(status)
                self.send_header('Content-Type', 'text/plain')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def do_GET(self):
                if self.path == '/hello':
                    self.reply(b'hello from python\n')
                elif self.path == '/close-delimited':
                    self.send_response(200)
                    self.send_header('Content-Type', 'text/plain')
                    self.end_headers()
                    self.wfile.write(b'until the close\n')
                    self.close_connection = True
                elif self.path == '/big-close-delimited':
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b'x' * 8192)
                    self.close_connection = True
                elif self.path == '/peer':
                    cert = self.connection.getpeercert()
                    names = [value for kind, value in cert.get('subjectAltName', ()) if kind == 'URI']
                    self.reply(('peer ' + ','.join(names) + '\n').encode())
                else:
                    self.reply(b'no such path\n', 404)
            def do_POST(self):
                length = int(self.headers.get('Content-Length', '0'))
                body = self.rfile.read(length)
                self.reply(b'python got ' + body)

        if mode in ('http', 'https'):
            server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
            if mode == 'https':
                chain, key, root = sys.argv[3], sys.argv[4], sys.argv[5]
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(chain, key)
                context.load_verify_locations(root)
                context.verify_mode = ssl.CERT_REQUIRED
                server.socket = context.wrap_socket(server.socket, server_side=True)
            announce(server.server_address[1])
            server.serve_forever()
        else:
            listener = socket.socket()
            listener.bind(('127.0.0.1', 0))
            listener.listen(16)
            announce(listener.getsockname()[1])
            held = []
            while True:
                connection, _ = listener.accept()
                connection.settimeout(5)
                try:
                    connection.recv(65536)
                except OSError:
                    pass
                if mode == 'garbage':
                    connection.sendall(b'HELLO THERE\r\nthis is not http\r\n\r\n')
                    connection.close()
                else:
                    held.append(connection)
        """#
}
