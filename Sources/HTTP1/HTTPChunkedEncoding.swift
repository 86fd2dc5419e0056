/// Writing a body in chunked transfer coding, piece by piece as it streams: how the proxy re-frames a chunked body
/// exactly as it parsed it.
public enum HTTPChunkedEncoding {
    /// The size line that precedes a chunk of `count` bytes (`count` > 0).
    public static func chunkHeader(_ count: Int) -> [UInt8] { Array((String(count, radix: 16) + "\r\n").utf8) }
    /// What follows a chunk's data.
    public static let chunkTrailer: [UInt8] = [0x0D, 0x0A]
    /// Appends a piece of body to `buffer`: as one chunk when `chunked`, else as it is.
    public static func append(_ piece: UnsafeRawBufferPointer, to buffer: inout [UInt8], chunked: Bool) {
        if chunked { buffer += chunkHeader(piece.count) }
        buffer.append(contentsOf: piece)
        if chunked { buffer += chunkTrailer }
    }

    /// The last chunk and an empty trailer section.
    public static let end: [UInt8] = Array("0\r\n\r\n".utf8)
}
