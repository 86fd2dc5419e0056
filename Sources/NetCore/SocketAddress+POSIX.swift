internal import Glibc

// Conversions between SocketAddress and the C sockaddr family. Internal: C types never reach the public API.
extension SocketAddress {
    /// The address in `raw`, an AF_INET, AF_INET6 or AF_UNIX sockaddr; `port` replaces the port when given.
    /// `length` bounds a unix path (the kernel does not always NUL-terminate it).
    init?(_ raw: UnsafePointer<sockaddr>, length: socklen_t? = nil, port: UInt16? = nil) {
        switch Int32(raw.pointee.sa_family) {
        case AF_INET:
            let v4 = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in.self)
            self.init(.ipv4(address: v4.sin_addr.s_addr, port: port ?? UInt16(bigEndian: v4.sin_port)))
        case AF_INET6:
            let v6 = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in6.self)
            var bytes = v6.sin6_addr
            let (high, low) = withUnsafeBytes(of: &bytes) {
                (
                    $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                    $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                )
            }
            self.init(
                .ipv6(
                    high: high, low: low, port: port ?? UInt16(bigEndian: v6.sin6_port), scopeID: v6.sin6_scope_id))
        case AF_UNIX:
            let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
            let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
            let available = length.map { max(0, min(capacity, Int($0) - pathOffset)) } ?? capacity
            let start = UnsafeRawPointer(raw).advanced(by: pathOffset).assumingMemoryBound(to: UInt8.self)
            let bytes = UnsafeBufferPointer(start: start, count: available)
            self.init(.unix(path: String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)))
        default:
            return nil
        }
    }

    /// The protocol family for `socket(2)`.
    var family: Int32 {
        switch storage {
        case .ipv4: return AF_INET
        case .ipv6: return AF_INET6
        case .unix: return AF_UNIX
        }
    }

    /// Calls `body` with this address as a C sockaddr and its length.
    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        var storage = sockaddr_storage()
        let length: socklen_t = withUnsafeMutableBytes(of: &storage) { raw in
            switch self.storage {
            case .ipv4(let address, let port):
                var v4 = sockaddr_in()
                v4.sin_family = sa_family_t(AF_INET)
                v4.sin_port = port.bigEndian
                v4.sin_addr.s_addr = address
                raw.storeBytes(of: v4, as: sockaddr_in.self)
                return socklen_t(MemoryLayout<sockaddr_in>.size)
            case .ipv6(let high, let low, let port, let scopeID):
                var v6 = sockaddr_in6()
                v6.sin6_family = sa_family_t(AF_INET6)
                v6.sin6_port = port.bigEndian
                v6.sin6_scope_id = scopeID
                withUnsafeMutableBytes(of: &v6.sin6_addr) { bytes in
                    bytes.storeBytes(of: high, toByteOffset: 0, as: UInt64.self)
                    bytes.storeBytes(of: low, toByteOffset: 8, as: UInt64.self)
                }
                raw.storeBytes(of: v6, as: sockaddr_in6.self)
                return socklen_t(MemoryLayout<sockaddr_in6>.size)
            case .unix(let path):
                var un = sockaddr_un()
                un.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &un.sun_path) { bytes in
                    // SocketAddress.unix(path:) guarantees the path fits with its terminating NUL.
                    for (index, byte) in path.utf8.prefix(bytes.count - 1).enumerated() { bytes[index] = byte }
                }
                raw.storeBytes(of: un, as: sockaddr_un.self)
                let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
                return socklen_t(pathOffset + path.utf8.count + 1)
            }
        }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
