import Glibc
import Testing

@testable import NetCore

@Suite("Socket addresses")
struct SocketAddressTests {
    @Test("IPv4, bracketed IPv6 and unix paths parse and print back the same text")
    func roundTrip() throws {
        for text in [
            "127.0.0.1:8443", "0.0.0.0:0", "[::1]:8443", "[2001:db8::1]:65535", "unix:/run/symbolon/proxy.sock",
        ] {
            let address = try SocketAddress.parse(text)
            #expect(address.description == text)
            #expect(try SocketAddress.parse(address.description) == address)
        }
    }

    @Test("an address tells its kind, host, port and path")
    func accessors() throws {
        let v4 = try SocketAddress.parse("127.0.0.1:8443")
        #expect(!v4.isUnix && v4.host == "127.0.0.1" && v4.port == 8443 && v4.unixPath == nil)
        let v6 = try SocketAddress.parse("[::1]:80")
        #expect(!v6.isUnix && v6.host == "::1" && v6.port == 80)
        let unix = try SocketAddress.parse("unix:/tmp/a.sock")
        #expect(unix.isUnix && unix.unixPath == "/tmp/a.sock" && unix.port == nil && unix.host == nil)
    }

    @Test("a host name resolves to its first address and keeps the port")
    func resolvesLocalhost() throws {
        let address = try SocketAddress.parse("localhost:8443")
        #expect(address.port == 8443)
        #expect(["127.0.0.1", "::1"].contains(address.host))
    }

    @Test(
        "malformed text is refused with a message that lists the accepted forms",
        arguments: [
            "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http", ":8443", "::1:8443",
            "[::1]8443", "[::1", "[localhost]:80", "unix:",
        ])
    func refusesMalformed(_ text: String) {
        #expect {
            try SocketAddress.parse(text)
        } throws: { error in
            guard let error = error as? NetError else { return false }
            return error.code == .invalidAddress && error.reason.contains("\"[::1]:8443\"")
                && error.reason.contains("unix:/path/to.sock") && error.description.contains("\"\(text)\"")
        }
    }

    @Test("a unix path too long for sun_path is refused")
    func refusesLongUnixPath() {
        #expect(throws: NetError.self) { try SocketAddress.parse("unix:/" + String(repeating: "a", count: 200)) }
    }

    @Test("a host that does not resolve is a resolution failure naming the host")
    func unresolvable() {
        #expect {
            try SocketAddress.parse("no-such-host.invalid:443")
        } throws: { error in
            guard let error = error as? NetError else { return false }
            return error.code == .resolutionFailed && error.reason.contains("no-such-host.invalid")
        }
    }

    @Test("a system error names the address and suggests what to check")
    func errnoReasons() {
        let inUse = NetError(errno: EADDRINUSE, operation: "bind", subject: "127.0.0.1:8443")
        #expect(inUse.code == .addressInUse)
        #expect(inUse.reason == "address already in use: 127.0.0.1:8443 — is another process listening?")
        #expect(inUse.description.hasPrefix("bind: address already in use"))
        #expect(inUse.errno == EADDRINUSE)
    }
}
