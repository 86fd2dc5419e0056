import X509

/// A compiled SPIFFE ID pattern: an exact trust domain, then literal segments, `*` (one segment) and an optional
/// final `**` (one or more segments). Matching walks the URI's UTF-8 bytes once and allocates nothing.
struct SPIFFEPattern: Sendable, Hashable {
    enum Segment: Sendable, Hashable {
        case literal([UInt8])
        case any
    }

    /// The pattern as written.
    let text: String
    /// `spiffe://trust-domain`, UTF-8.
    let authority: [UInt8]
    let segments: [Segment]
    /// Whether the pattern ends with `/**`.
    let endsWithAnyDepth: Bool

    init(_ text: String) throws {
        func reject(_ why: String) -> PolicyError {
            let shown = text.count > 80 ? String(text.prefix(80)) + "…" : text
            return PolicyError(.invalidValue, "invalid SPIFFE ID pattern \"\(shown)\": \(why)")
        }
        let prefix = "spiffe://"
        guard !text.isEmpty else { throw reject("it is empty; give spiffe://trust-domain/path") }
        guard text.utf8.count <= SPIFFEID.maximumLength else {
            throw reject("longer than \(SPIFFEID.maximumLength) bytes")
        }
        guard text.hasPrefix(prefix) else {
            if text.lowercased().hasPrefix(prefix) { throw reject("the scheme must be lowercase \"spiffe\"") }
            throw reject("it must start with spiffe://")
        }
        let rest = text.dropFirst(prefix.count)
        if rest.contains("?") { throw reject("a query is not allowed") }
        if rest.contains("#") { throw reject("a fragment is not allowed") }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let domain = String(rest[..<slash])
        if domain.contains("*") {
            throw reject("the trust domain cannot be wildcarded; write one rule per trust domain")
        }
        do { try SPIFFEID.validateTrustDomain(domain) } catch let error as X509Error {
            throw reject(error.reason)
        }
        let path = rest[slash...]
        var segments: [Segment] = []
        var endsWithAnyDepth = false
        if !path.isEmpty {
            guard path != "/" else { throw reject("the path must not be only \"/\" (leave it out, or name a path)") }
            guard !path.hasSuffix("/") else { throw reject("the path must not end with \"/\"") }
            let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
            for (index, part) in parts.enumerated() {
                if part.isEmpty { throw reject("the path has an empty segment (\"//\")") }
                if part == "**" {
                    guard index == parts.count - 1 else {
                        throw reject("\"**\" is allowed only as the last segment; use \"*\" for one segment")
                    }
                    endsWithAnyDepth = true
                } else if part == "*" {
                    segments.append(.any)
                } else if part.contains("*") {
                    throw reject(
                        "\"\(part)\": a wildcard must be a whole segment (\"*\" for one segment, a final \"**\" for "
                            + "one or more); partial wildcards are not supported")
                } else {
                    if part == "." || part == ".." { throw reject("path segments \".\" and \"..\" are not allowed") }
                    if let bad = part.utf8.first(where: { !SPIFFEPattern.isPathByte($0) }) {
                        let shown = String(decoding: [bad], as: UTF8.self)
                        throw reject(
                            "the path has the character \"\(bad < 0x80 ? shown : "non-ASCII")\"; only letters, "
                                + "digits, \".\", \"-\" and \"_\" are allowed")
                    }
                    segments.append(.literal(Array(part.utf8)))
                }
            }
        }
        // Belt and braces: with every wildcard replaced by a valid segment the pattern must be a SPIFFE ID.
        let example =
            prefix + domain
            + segments.map { segment -> String in
                if case .literal(let bytes) = segment { "/" + String(decoding: bytes, as: UTF8.self) } else { "/x" }
            }.joined() + (endsWithAnyDepth ? "/x" : "")
        do { _ = try SPIFFEID(example) } catch let error as X509Error { throw reject(error.reason) }
        self.text = text
        self.authority = Array((prefix + domain).utf8)
        self.segments = segments
        self.endsWithAnyDepth = endsWithAnyDepth
    }

    /// Whether `uri` is a SPIFFE ID this pattern accepts.
    func matches(_ uri: String) -> Bool {
        var uri = uri
        return uri.withUTF8 { matches(bytes: $0) }
    }

    // Plain index loops rather than generic algorithms: this runs on every connection, and unspecialised
    // generics (as in debug builds) cost several times more.
    private func matches(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = bytes.count
        guard count >= authority.count else { return false }
        var index = 0
        while index < authority.count {
            guard bytes[index] == authority[index] else { return false }
            index += 1
        }
        for segment in segments {
            guard let end = SPIFFEPattern.segmentEnd(bytes, from: index) else { return false }
            let start = index + 1
            switch segment {
            case .literal(let literal):
                guard end - start == literal.count else { return false }
                var offset = 0
                while offset < literal.count {
                    guard bytes[start + offset] == literal[offset] else { return false }
                    offset += 1
                }
            case .any:
                guard SPIFFEPattern.isValidSegment(bytes, start, end) else { return false }
            }
            index = end
        }
        if endsWithAnyDepth {
            guard index < count else { return false }
            while index < count {
                guard let end = SPIFFEPattern.segmentEnd(bytes, from: index),
                    SPIFFEPattern.isValidSegment(bytes, index + 1, end)
                else { return false }
                index = end
            }
        }
        return index == count
    }

    /// For "/segment…" at `index`, where the segment ends (the next "/" or the end); nil without the leading "/".
    private static func segmentEnd(_ bytes: UnsafeBufferPointer<UInt8>, from index: Int) -> Int? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "/") else { return nil }
        var end = index + 1
        while end < bytes.count, bytes[end] != UInt8(ascii: "/") { end += 1 }
        return end
    }

    /// A segment a SPIFFE ID may hold: not empty, not `.` or `..`, only letters, digits, `.`, `-`, `_`.
    private static func isValidSegment(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        guard start < end else { return false }
        var onlyDots = true
        var index = start
        while index < end {
            let byte = bytes[index]
            guard isPathByte(byte) else { return false }
            if byte != UInt8(ascii: ".") { onlyDots = false }
            index += 1
        }
        return !onlyDots || end - start > 2
    }

    static func isPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default: return false
        }
    }
}
