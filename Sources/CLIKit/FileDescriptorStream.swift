#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Musl)
    internal import Musl
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Writes text straight to a file descriptor, unbuffered, so nothing is lost when `main` calls `exit`.
///
/// Uses `write(2)` on the descriptor number rather than the C `stdout`/`stderr` globals, which Swift 6
/// rejects as shared mutable state.
struct FileDescriptorStream: TextOutputStream {
    /// Standard output (descriptor 1).
    static let standardOutput = FileDescriptorStream(descriptor: 1)
    /// Standard error (descriptor 2).
    static let standardError = FileDescriptorStream(descriptor: 2)

    let descriptor: Int32

    /// Writes all of `string`, retrying after signals; gives up silently if the reader has gone away.
    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { buffer in
                #if canImport(Glibc)
                    Glibc.write(descriptor, buffer.baseAddress, buffer.count)
                #elseif canImport(Musl)
                    Musl.write(descriptor, buffer.baseAddress, buffer.count)
                #else
                    Darwin.write(descriptor, buffer.baseAddress, buffer.count)
                #endif
            }
            if written > 0 {
                bytes = bytes.dropFirst(written)
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }
}
