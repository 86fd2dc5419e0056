internal import Glibc

/// Where a stream socket listens or connects: an IPv4 or IPv6 address with a port, or a unix-domain socket path.
///
/// Build one with `parse(_:)`. IP addresses are kept as raw bytes, so making one for each accepted peer costs no
/// allocation; `description` renders the text form on demand and parses back to an equal value.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    enum Storage: Hashable, Sendable {
        /// `address` as stored in `in_addr.s_addr` (network byte order); `port` in host byte order.
        case ipv4(address: UInt32, port: UInt16)
        /// The 16 address bytes as two 8-byte halves in memory order; `port` in host byte order.
        case ipv6(high: UInt64, low: UInt64, port: UInt16, scopeID: UInt32)
        case unix(path: String)
    }

    let storage: Storage

    init(_ storage: Storage) { self.storage = storage }

    /// The accepted text forms, quoted in every parse error.
    static let acceptedForms = "\"127.0.0.1:8443\", \"[::1]:8443\", \"localhost:8443\" or \"unix:/path/to.sock\""

    /// Parses `"127.0.0.1:8443"`, `"[::1]:8443"`, `"localhost:8443"` or `"unix:/path/to.sock"`.
    ///
    /// A host name is resolved with `getaddrinfo` and the first result is used; this blocks for as long as the
    /// resolver takes, so parse configuration before serving, not on an event loop.
    /// - Throws: `NetError` with code `.invalidAddress` naming the accepted forms, or `.resolutionFailed`.
    public static func parse(_ text: String) throws -> SocketAddress {
        func invalid(_ why: String) -> NetError {
            NetError(
                .invalidAddress, operation: "parse address",
                reason: "\"\(text)\" is not an address: \(why); use \(acceptedForms)")
        }
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst("unix:".count))
            return try unix(path: path)
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("missing \"]\" after the IPv6 address") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw invalid("missing \":port\" after \"]\"") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw invalid("missing \":port\"") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw invalid("an IPv6 address must be written in brackets") }
        }
        guard !host.isEmpty else { throw invalid("missing host before the port") }
        guard let port = UInt16(portText), portText.allSatisfy(\.isASCII) else {
            throw invalid("the port must be a number from 0 to 65535")
        }
        if let numeric = numericAddress(String(host), port: port) { return numeric }
        if text.hasPrefix("[") { throw invalid("\"\(host)\" is not an IPv6 address") }
        return try resolve(String(host), port: port)
    }

    /// A unix-domain socket address for `path`.
    /// - Throws: `NetError.Code.invalidAddress` when the path is empty, too long for `sun_path`, or contains NUL.
    public static func unix(path: String) throws -> SocketAddress {
        let limit = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
        guard !path.isEmpty, !path.utf8.contains(0), path.utf8.count <= limit else {
            throw NetError(
                .invalidAddress, operation: "parse address",
                reason: "\"unix:\(path)\" is not a usable unix socket path: it must be 1 to \(limit) bytes without "
                    + "NUL; use \(acceptedForms)")
        }
        return SocketAddress(.unix(path: path))
    }

    /// Whether this is a unix-domain socket address.
    public var isUnix: Bool {
        if case .unix = storage { return true }
        return false
    }

    /// The port of an IP address; `nil` for unix sockets.
    public var port: Int? {
        switch storage {
        case .ipv4(_, let port), .ipv6(_, _, let port, _): return Int(port)
        case .unix: return nil
        }
    }

    /// The raw address bytes of an IP address in network order (4 for IPv4, 16 for IPv6); nil for unix sockets.
    public var addressBytes: [UInt8]? {
        switch storage {
        case .ipv4(let address, _): return withUnsafeBytes(of: address) { Array($0) }
        case .ipv6(let high, let low, _, _):
            return withUnsafeBytes(of: high) { Array($0) } + withUnsafeBytes(of: low) { Array($0) }
        case .unix: return nil
        }
    }

    /// The path of a unix socket address (empty for an unnamed peer); `nil` for IP addresses.
    public var unixPath: String? {
        if case .unix(let path) = storage { return path }
        return nil
    }

    /// The numeric host of an IP address (`"127.0.0.1"`, `"::1"`); `nil` for unix sockets.
    public var host: String? {
        switch storage {
        case .ipv4(let address, _):
            let raw = in_addr(s_addr: address)
            return withUnsafeBytes(of: raw) { Self.presentation(family: AF_INET, $0.baseAddress!) }
        case .ipv6(let high, let low, _, _):
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { bytes in
                bytes.storeBytes(of: high, toByteOffset: 0, as: UInt64.self)
                bytes.storeBytes(of: low, toByteOffset: 8, as: UInt64.self)
            }
            return withUnsafeBytes(of: raw) { Self.presentation(family: AF_INET6, $0.baseAddress!) }
        case .unix: return nil
        }
    }

    /// The text form `parse(_:)` accepts: `127.0.0.1:8443`, `[::1]:8443`, `unix:/path` (`unix:` for an unnamed
    /// unix peer, which does not parse back).
    public var description: String {
        switch storage {
        case .ipv4(_, let port): return "\(host ?? "?"):\(port)"
        case .ipv6(_, _, let port, _): return "[\(host ?? "?")]:\(port)"
        case .unix(let path): return "unix:\(path)"
        }
    }

    private static func presentation(family: Int32, _ raw: UnsafeRawPointer) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = buffer.withUnsafeMutableBufferPointer { out in
            inet_ntop(family, raw, out.baseAddress, socklen_t(out.count)) != nil
        }
        guard ok else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func numericAddress(_ host: String, port: UInt16) -> SocketAddress? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return SocketAddress(.ipv4(address: v4.s_addr, port: port)) }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            let (high, low) = withUnsafeBytes(of: &v6) {
                (
                    $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                    $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                )
            }
            return SocketAddress(.ipv6(high: high, low: low, port: port, scopeID: 0))
        }
        return nil
    }

    private static func resolve(_ host: String, port: UInt16) throws -> SocketAddress {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &results)
        defer { if let results { freeaddrinfo(results) } }
        guard status == 0, let first = results, let raw = first.pointee.ai_addr else {
            let detail = status == 0 ? "no addresses" : String(cString: gai_strerror(status))
            throw NetError(
                .resolutionFailed, operation: "resolve",
                reason: "cannot resolve host \"\(host)\" (\(detail)) — check the name or use a numeric address")
        }
        guard let address = SocketAddress(raw, port: port) else {
            throw NetError(
                .resolutionFailed, operation: "resolve",
                reason: "host \"\(host)\" resolved to an address family other than IPv4/IPv6")
        }
        return address
    }
}
