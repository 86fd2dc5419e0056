/// A failure of the certificate store. The code can grow; the reason says what was wrong and what to do.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// A kind of store failure. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A serial being inserted already exists.
        public static let duplicateSerial = Code("duplicateSerial")
        /// No certificate with that serial.
        public static let notFound = Code("notFound")
        /// There is no store at the given location (and the caller asked not to create one).
        public static let storeMissing = Code("storeMissing")
        /// The certificate is revoked already.
        public static let alreadyRevoked = Code("alreadyRevoked")
        /// The store cannot be written (read-only file, directory or file system).
        public static let readOnly = Code("readOnly")
        /// The store was locked by another process for longer than the busy timeout.
        public static let busy = Code("busy")
        /// The database was written by a newer Symbolon (schema version unknown to this one).
        public static let schemaTooNew = Code("schemaTooNew")
        /// The file is not a Symbolon store or is damaged.
        public static let corrupt = Code("corrupt")
        /// Any other database or I/O failure.
        public static let io = Code("io")
    }

    public let code: Code
    /// What was wrong and what to do, for a person.
    public let reason: String
    /// The store's location (file path or connection description).
    public let location: String?

    public init(_ code: Code, _ reason: String, location: String? = nil) {
        self.code = code
        self.reason = reason
        self.location = location
    }

    public var description: String {
        if let location { return "\(location): \(reason)" }
        return reason
    }
}
