import Foundation
import X509

extension AuthorizationPolicy {
    /// Largest policy file or document accepted, in bytes (1 MiB).
    public static let maximumDocumentSize = 1 << 20

    /// Reads a JSON policy file (format in docs/policy.md). Every error names the file and, where it applies, the
    /// JSON path of the offending value (`rules[2].spiffeId`).
    public static func load(file path: String) throws -> AuthorizationPolicy {
        try PolicyJSON.load(PolicyDocument.self, file: path).policy
    }

    /// Parses a JSON policy document (format in docs/policy.md).
    public static func parse(json: [UInt8]) throws -> AuthorizationPolicy {
        try parse(json: Data(json))
    }

    /// Parses a JSON policy document (format in docs/policy.md). Unknown keys, empty rules, wrong types and bad
    /// patterns are errors, so that a typo can never silently widen or narrow access.
    public static func parse(json: Data) throws -> AuthorizationPolicy {
        try PolicyJSON.decode(PolicyDocument.self, json: json).policy
    }
}

/// Reading and decoding the JSON documents of this module (connection policies, route policies) with the same
/// strictness: a size limit, repeated keys refused, syntax errors with line and column, the file named.
enum PolicyJSON {
    static func load<Document: Decodable>(_ type: Document.Type, file path: String) throws -> Document {
        let limit = AuthorizationPolicy.maximumDocumentSize
        let data: Data
        do { data = try SecureFile.read(path, limit: limit) } catch let error as X509Error {
            let code: PolicyError.Code = error.code == .tooLarge ? .tooLarge : .io
            let reason =
                error.code == .tooLarge
                ? "the file is larger than 1 MiB (\(limit) bytes); split it or use wider patterns"
                : error.reason
            throw PolicyError(code, reason, file: path)
        }
        do { return try decode(type, json: data) } catch var error as PolicyError {
            error.file = path
            throw error
        }
    }

    static func decode<Document: Decodable>(_ type: Document.Type, json: Data) throws -> Document {
        let limit = AuthorizationPolicy.maximumDocumentSize
        guard json.count <= limit else {
            throw PolicyError(
                .tooLarge, "the document is larger than 1 MiB (\(limit) bytes); split it or use wider patterns")
        }
        // A repeated key would otherwise be resolved silently by JSONDecoder; it is checked once the JSON is known
        // to be well-formed, and before any other complaint about the document's contents.
        func refuseDuplicateKeys() throws {
            guard let (path, key) = JSONDuplicateKeys.first(in: json) else { return }
            throw PolicyError(
                .duplicateKey,
                "the key \"\(AuthorizationPolicy.escapingControlCharacters(String(key.prefix(80))))\" appears more than "
                    + "once in this object; keep one (JSON parsers disagree on which would win)",
                path: path.isEmpty ? nil : path)
        }
        do {
            let document = try JSONDecoder().decode(type, from: json)
            try refuseDuplicateKeys()
            return document
        } catch let error as PolicyError {
            if error.code != .duplicateKey { try refuseDuplicateKeys() }
            throw error
        } catch DecodingError.dataCorrupted(let context) {
            throw PolicyError(
                .invalidJSON,
                "not valid JSON: \(AuthorizationPolicy.syntaxErrorDetail(json) ?? context.debugDescription); check commas, "
                    + "quotes and braces")
        } catch {
            throw PolicyError(.invalidJSON, "not a valid document: \(error)")
        }
    }
}

extension AuthorizationPolicy {
    /// Where the JSON breaks, from JSONSerialization (JSONDecoder on Linux only says that it does): "Invalid value
    /// around character 20 (line 3, column 8)".
    static func syntaxErrorDetail(_ json: Data) -> String? {
        do { _ = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed]) } catch {
            guard var detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String else { return nil }
            if detail.hasSuffix(".") { detail.removeLast() }
            if let range = detail.range(of: "character "), let offset = Int(detail[range.upperBound...]),
                offset <= json.count
            {
                let before = json.prefix(offset)
                let line = before.count { $0 == UInt8(ascii: "\n") } + 1
                let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
                detail += " (line \(line), column \(column))"
            }
            return detail
        }
        return nil
    }
}
