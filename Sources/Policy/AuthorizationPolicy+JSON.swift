import Foundation
import X509

extension AuthorizationPolicy {
    /// Largest policy file or document accepted, in bytes (1 MiB).
    public static let maximumDocumentSize = 1 << 20

    /// Reads a JSON policy file (format in docs/policy.md). Every error names the file and, where it applies, the
    /// JSON path of the offending value (`rules[2].spiffeId`).
    public static func load(file path: String) throws -> AuthorizationPolicy {
        let data: Data
        do { data = try SecureFile.read(path, limit: maximumDocumentSize) } catch let error as X509Error {
            let code: PolicyError.Code = error.code == .tooLarge ? .tooLarge : .io
            let reason =
                error.code == .tooLarge
                ? "the policy file is larger than 1 MiB (\(maximumDocumentSize) bytes); split it or use wider patterns"
                : error.reason
            throw PolicyError(code, reason, file: path)
        }
        do { return try parse(json: data) } catch var error as PolicyError {
            error.file = path
            throw error
        }
    }

    /// Parses a JSON policy document (format in docs/policy.md).
    public static func parse(json: [UInt8]) throws -> AuthorizationPolicy {
        try parse(json: Data(json))
    }

    /// Parses a JSON policy document (format in docs/policy.md). Unknown keys, empty rules, wrong types and bad
    /// patterns are errors, so that a typo can never silently widen or narrow access.
    public static func parse(json: Data) throws -> AuthorizationPolicy {
        guard json.count <= maximumDocumentSize else {
            throw PolicyError(
                .tooLarge,
                "the policy is larger than 1 MiB (\(maximumDocumentSize) bytes); split it or use wider patterns")
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
            let policy = try JSONDecoder().decode(PolicyDocument.self, from: json).policy
            try refuseDuplicateKeys()
            return policy
        } catch let error as PolicyError {
            if error.code != .duplicateKey { try refuseDuplicateKeys() }
            throw error
        } catch DecodingError.dataCorrupted(let context) {
            throw PolicyError(
                .invalidJSON,
                "not valid JSON: \(syntaxErrorDetail(json) ?? context.debugDescription); check commas, quotes and braces"
            )
        } catch {
            throw PolicyError(.invalidJSON, "not a valid policy document: \(error)")
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
