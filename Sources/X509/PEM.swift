import Foundation

/// PEM armour (RFC 7468): `-----BEGIN LABEL-----`, base64, `-----END LABEL-----`.
///
/// Parsed here in Swift rather than by OpenSSL so that an encrypted key can never make OpenSSL prompt on a terminal,
/// and so that every malformed block gets a precise message.
public struct PEMBlock: Sendable, Equatable {
    /// The label, e.g. `CERTIFICATE`, `PRIVATE KEY`, `X509 CRL`.
    public let label: String
    /// The decoded bytes.
    public let der: [UInt8]

    public init(label: String, der: [UInt8]) {
        self.label = label
        self.der = der
    }

    /// The block in PEM form, 64 base64 characters a line.
    public var pemEncoded: String {
        let base64 = Data(der).base64EncodedString()
        var lines = ["-----BEGIN \(label)-----"]
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Largest PEM input accepted (bundles of thousands of certificates fit; a runaway file does not).
    public static let maximumInputSize = 16 * 1024 * 1024
    /// Most blocks accepted in one input.
    public static let maximumBlockCount = 10_000

    /// Every PEM block in `text`, in order. Text between blocks is ignored (comments, `openssl x509 -text` output).
    ///
    /// Throws `.malformedInput` for an unterminated block, mismatched labels, RFC 1421 headers (old-style
    /// encryption) or invalid base64, and when the text holds no block at all.
    public static func parseAll(_ text: String) throws -> [PEMBlock] {
        guard text.utf8.count <= maximumInputSize else {
            throw X509Error(.tooLarge, "input is larger than \(maximumInputSize / 1024 / 1024) MiB")
        }
        var blocks: [PEMBlock] = []
        var label: String?
        var body = ""
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if let current = label {
                if line.hasPrefix("-----END ") {
                    guard line == "-----END \(current)-----" else {
                        throw X509Error(
                            .malformedInput,
                            "PEM block \"\(current)\" ends with \"\(line.prefix(80))\" on line \(lineNumber)")
                    }
                    guard let data = Data(base64Encoded: body), !data.isEmpty else {
                        throw X509Error(
                            .malformedInput, "PEM block \"\(current)\" ending on line \(lineNumber) is not valid base64"
                        )
                    }
                    blocks.append(PEMBlock(label: current, der: [UInt8](data)))
                    guard blocks.count <= maximumBlockCount else {
                        throw X509Error(.tooLarge, "input holds more than \(maximumBlockCount) PEM blocks")
                    }
                    label = nil
                    body = ""
                } else if line.contains(":") {
                    throw X509Error(
                        .malformedInput,
                        "PEM block \"\(current)\" has a header on line \(lineNumber) (old OpenSSL-style encryption?); "
                            + "convert it with `openssl pkcs8 -topk8`")
                } else {
                    body += line
                }
            } else if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----"), line.count > 16 {
                label = String(line.dropFirst(11).dropLast(5))
            }
        }
        if let label {
            throw X509Error(
                .malformedInput, "PEM block \"\(label)\" is not terminated (no -----END \(label)----- line)")
        }
        guard !blocks.isEmpty else {
            throw X509Error(.malformedInput, "no PEM block found (expected -----BEGIN …----- armour)")
        }
        return blocks
    }
}
