/// The path part of a route: an exact path whose `*` segments match one segment and whose final `/**` matches
/// zero or more (`"path"`), or whole leading segments (`"pathPrefix"`: `/refunds` matches `/refunds` and
/// `/refunds/7`, never `/refundsX`).
struct RoutePathPattern: Sendable, CustomStringConvertible {
    enum Kind: Sendable { case exact, prefix }

    let kind: Kind
    let text: String
    private let segments: [String]
    private let endsWithAnyRest: Bool

    init(_ text: String, kind: Kind) throws {
        guard text.hasPrefix("/") else { throw PolicyError(.invalidValue, "must start with /") }
        guard !text.contains("?"), !text.contains("%"), !text.contains("\\") else {
            throw PolicyError(
                .invalidValue, "write the path decoded, without a query, % escapes or backslashes")
        }
        var segments = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var endsWithAnyRest = false
        if kind == .exact, segments.last == "**" {
            segments.removeLast()
            endsWithAnyRest = true
        }
        if kind == .prefix, segments.count > 1, segments.last == "" { segments.removeLast() }  // "/refunds/"
        for (index, segment) in segments.enumerated() {
            if segment.isEmpty, !(index == segments.count - 1) || (kind == .prefix && segments.count > 1) {
                throw PolicyError(.invalidValue, "has an empty segment (//)")
            }
            if segment == "." || segment == ".." { throw PolicyError(.invalidValue, "has a dot segment") }
            if segment.contains("*"), segment != "*" || kind == .prefix {
                throw PolicyError(
                    .invalidValue,
                    kind == .prefix
                        ? "a pathPrefix has no wildcards; use \"path\" with * and a final /**"
                        : "* must be a whole segment, and ** only the last one")
            }
        }
        self.kind = kind
        self.text = text
        self.segments = segments
        self.endsWithAnyRest = endsWithAnyRest
    }

    var description: String { text }

    func matches(_ path: RequestPath) -> Bool {
        if path.isAsterisk { return kind == .prefix && segments == [""] }
        let requested = path.segments
        switch kind {
        case .prefix:
            if segments == [""] { return true }  // "/" is every path
            guard requested.count >= segments.count else { return false }
            return zip(segments, requested).allSatisfy { $0 == $1 }
        case .exact:
            if endsWithAnyRest {
                guard requested.count >= segments.count else { return false }
            } else {
                guard requested.count == segments.count else { return false }
            }
            return zip(segments, requested).allSatisfy { pattern, segment in
                pattern == "*" ? !segment.isEmpty : pattern == segment
            }
        }
    }
}
