extension HTTPRequestHead {
    /// A copy without any field named in `names` (case-insensitive) — how inbound copies of identity headers are
    /// stripped before the proxy adds its own.
    public func removing(_ names: Set<String>) -> HTTPRequestHead {
        let lowered = Set(names.map { $0.lowercased() })
        return HTTPRequestHead(
            method: method, target: target, version: version,
            headers: headers.filter { !lowered.contains($0.name.lowercased()) }, framing: framing)
    }

    /// A copy with `fields` appended. Names and values must already be valid (token names, no CR, LF or NUL in
    /// values): this is for values the proxy itself builds.
    public func adding(_ fields: [(name: String, value: String)]) -> HTTPRequestHead {
        HTTPRequestHead(method: method, target: target, version: version, headers: headers + fields, framing: framing)
    }

    /// The head as sent on the wire: request line, fields in order, blank line.
    public func encoded() -> [UInt8] {
        var text = "\(method) \(target) \(version.rawValue)\r\n"
        for field in headers { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }
}
