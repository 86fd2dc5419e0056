/// An X.500 distinguished name as an ordered list of attributes (most significant first, as written in the
/// certificate).
public struct DistinguishedName: Sendable, Hashable, CustomStringConvertible {
    /// One attribute: its short name (`CN`, `O`, `OU`, `serialNumber`, or a dotted OID) and its value.
    public struct Attribute: Sendable, Hashable {
        public let type: String
        public let value: String
        public init(type: String, value: String) {
            self.type = type
            self.value = value
        }
    }

    /// The attributes in certificate order.
    public var attributes: [Attribute]

    public init(_ attributes: [Attribute] = []) { self.attributes = attributes }

    /// A name built from `(type, value)` pairs, e.g. `[("O", "Acme"), ("CN", "api")]`.
    public init(_ pairs: [(String, String)]) {
        attributes = pairs.map { Attribute(type: $0.0, value: $0.1) }
    }

    /// The first value of an attribute type, e.g. `name["CN"]`.
    public subscript(type: String) -> String? { attributes.first { $0.type == type }?.value }

    /// Every value of an attribute type (a name may hold several OUs).
    public func values(of type: String) -> [String] { attributes.filter { $0.type == type }.map(\.value) }

    /// The common name, if any.
    public var commonName: String? { self["CN"] }

    /// RFC 4514 string (least significant first, special characters escaped): `CN=api,O=Acme`.
    public var description: String {
        attributes.reversed().map { "\($0.type)=\(DistinguishedName.escape($0.value))" }.joined(separator: ",")
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for (index, character) in value.enumerated() {
            if ",+\"\\<>;=".contains(character) || (index == 0 && (character == "#" || character == " "))
                || (index == value.count - 1 && character == " ")
            {
                out.append("\\")
            }
            out.append(character)
        }
        return out
    }
}
