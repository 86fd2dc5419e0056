/// Basic constraints (RFC 5280 4.2.1.9).
public struct BasicConstraints: Sendable, Hashable {
    /// Whether the subject is a CA.
    public var isCA: Bool
    /// Most intermediates that may follow this CA in a path, or nil for no limit.
    public var pathLength: Int?
    public init(isCA: Bool, pathLength: Int? = nil) {
        self.isCA = isCA
        self.pathLength = pathLength
    }
}

/// Key usage bits (RFC 5280 4.2.1.3).
public struct KeyUsage: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    // The values are OpenSSL's KU_* bit values, so conversion at the wall is a plain copy.
    public static let digitalSignature = KeyUsage(rawValue: 0x0080)
    public static let nonRepudiation = KeyUsage(rawValue: 0x0040)
    public static let keyEncipherment = KeyUsage(rawValue: 0x0020)
    public static let dataEncipherment = KeyUsage(rawValue: 0x0010)
    public static let keyAgreement = KeyUsage(rawValue: 0x0008)
    public static let keyCertSign = KeyUsage(rawValue: 0x0004)
    public static let cRLSign = KeyUsage(rawValue: 0x0002)
    public static let encipherOnly = KeyUsage(rawValue: 0x0001)
    public static let decipherOnly = KeyUsage(rawValue: 0x8000)

    static let names: [(KeyUsage, String)] = [
        (.digitalSignature, "digitalSignature"), (.nonRepudiation, "nonRepudiation"),
        (.keyEncipherment, "keyEncipherment"), (.dataEncipherment, "dataEncipherment"),
        (.keyAgreement, "keyAgreement"), (.keyCertSign, "keyCertSign"), (.cRLSign, "cRLSign"),
        (.encipherOnly, "encipherOnly"), (.decipherOnly, "decipherOnly"),
    ]

    /// The set bits by RFC name, e.g. `["digitalSignature", "keyEncipherment"]`.
    public var names: [String] { KeyUsage.names.filter { contains($0.0) }.map(\.1) }

    /// Parses an RFC name (`digitalSignature`), case-insensitive.
    public init?(name: String) {
        guard let found = KeyUsage.names.first(where: { $0.1.lowercased() == name.lowercased() }) else { return nil }
        self = found.0
    }

    public var description: String { names.joined(separator: ", ") }
}

/// One extended key usage purpose (RFC 5280 4.2.1.12), by OID.
public struct ExtendedKeyUsage: Sendable, Hashable, CustomStringConvertible {
    /// Dotted OID.
    public let oid: String

    public init(oid: String) { self.oid = oid }

    public static let serverAuth = ExtendedKeyUsage(oid: "1.3.6.1.5.5.7.3.1")
    public static let clientAuth = ExtendedKeyUsage(oid: "1.3.6.1.5.5.7.3.2")
    public static let codeSigning = ExtendedKeyUsage(oid: "1.3.6.1.5.5.7.3.3")
    public static let emailProtection = ExtendedKeyUsage(oid: "1.3.6.1.5.5.7.3.4")
    public static let timeStamping = ExtendedKeyUsage(oid: "1.3.6.1.5.5.7.3.8")
    public static let ocspSigning = ExtendedKeyUsage(oid: "1.3.6.1.5.5.7.3.9")
    public static let any = ExtendedKeyUsage(oid: "2.5.29.37.0")

    static let names: [(ExtendedKeyUsage, String)] = [
        (.serverAuth, "serverAuth"), (.clientAuth, "clientAuth"), (.codeSigning, "codeSigning"),
        (.emailProtection, "emailProtection"), (.timeStamping, "timeStamping"), (.ocspSigning, "OCSPSigning"),
        (.any, "anyExtendedKeyUsage"),
    ]

    /// Parses a name (`clientAuth`, case-insensitive) or a dotted OID (`1.3.6.1.5.5.7.3.2`); nil if neither.
    public init?(name: String) {
        if let found = ExtendedKeyUsage.names.first(where: { $0.1.lowercased() == name.lowercased() }) {
            self = found.0
        } else if !name.isEmpty, name.count < 200, name.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty }),
            name.contains(".")
        {
            self.oid = name
        } else {
            return nil
        }
    }

    /// The name for a known OID, else the OID.
    public var description: String { ExtendedKeyUsage.names.first { $0.0 == self }?.1 ?? oid }
}

/// Name constraints (RFC 5280 4.2.1.10): permitted and excluded subtrees.
public struct NameConstraints: Sendable, Hashable {
    public var permitted: [SubjectAlternativeName]
    public var excluded: [SubjectAlternativeName]
    public init(permitted: [SubjectAlternativeName] = [], excluded: [SubjectAlternativeName] = []) {
        self.permitted = permitted
        self.excluded = excluded
    }
}
