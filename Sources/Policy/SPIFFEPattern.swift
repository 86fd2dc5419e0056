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
        let example = prefix + domain + segments.map { segment -> String in
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

    private func matches(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= authority.count, bytes.starts(with: authority) else { return false }
        var index = authority.count
        // Reads "/segment" from `index`; returns the segment's range, or nil when the next byte is not "/".
        func nextSegment() -> Range<Int>? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "/") else { return nil }
            index += 1
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "/") { index += 1 }
            return start..<index
        }
        for segment in segments {
            guard let range = nextSegment() else { return false }
            switch segment {
            case .literal(let literal):
                guard range.count == literal.count, bytes[range].elementsEqual(literal) else { return false }
            case .any:
                guard SPIFFEPattern.isValidSegment(bytes[range]) else { return false }
            }
        }
        if endsWithAnyDepth {
            guard index < bytes.count else { return false }
            while index < bytes.count {
                guard let range = nextSegment(), SPIFFEPattern.isValidSegment(bytes[range]) else { return false }
            }
        }
        return index == bytes.count
    }

    /// A segment a SPIFFE ID may hold: not empty, not `.` or `..`, only letters, digits, `.`, `-`, `_`.
    static func isValidSegment(_ segment: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard !segment.isEmpty, segment.allSatisfy(isPathByte) else { return false }
        return !segment.allSatisfy { $0 == UInt8(ascii: ".") } || segment.count > 2
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
