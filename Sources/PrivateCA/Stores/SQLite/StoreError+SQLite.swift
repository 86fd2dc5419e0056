internal import CSQLite
import Foundation

extension StoreError {
    // Extended result codes are C macros built with shifts, which Swift does not import; values from sqlite3.h.
    private static let readOnlyDirectory = SQLITE_READONLY | (6 << 8)
    private static let primaryKeyConstraint = SQLITE_CONSTRAINT | (6 << 8)

    /// The one place where an SQLite result code becomes a `StoreError`.
    ///
    /// - Parameters:
    ///   - code: the (extended) result code.
    ///   - message: `sqlite3_errmsg` text, quoted in the reason so the underlying cause is never lost.
    ///   - path: the database file, named in reasons that ask the user to act on it.
    ///   - writing: whether the failing call meant to change the store; an unopenable file is then a permission
    ///     problem rather than a generic I/O failure.
    static func sqlite(code: Int32, message: String, path: String, writing: Bool) -> StoreError {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        switch code & 0xff {
        case SQLITE_READONLY:
            if code == readOnlyDirectory {
                return StoreError(
                    .readOnly,
                    "cannot use the CA store at \(path) because its directory \(directory) is not writable "
                        + "(SQLite: \(message)); check the directory's permissions and file system",
                    location: path)
            }
            return StoreError(
                .readOnly,
                "cannot write the CA store at \(path) (SQLite: \(message)); check that the file and its directory "
                    + "\(directory) are writable by this user and that the file system is not mounted read-only",
                location: path)
        case SQLITE_CANTOPEN where writing:
            return StoreError(
                .readOnly,
                "cannot open the CA store at \(path) for writing (SQLite: \(message)); check the permissions of the "
                    + "file and of its directory \(directory)",
                location: path)
        case SQLITE_CANTOPEN:
            return StoreError(
                .io,
                "cannot open the CA store at \(path) (SQLite: \(message)); check that the file and its directory "
                    + "\(directory) exist and are readable by this user",
                location: path)
        case SQLITE_BUSY, SQLITE_LOCKED:
            return StoreError(
                .busy,
                "the CA store is locked by another process and stayed locked longer than the busy timeout "
                    + "(SQLite: \(message)); wait for the other Symbolon command to finish and try again",
                location: path)
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return StoreError(
                .corrupt,
                "\(path) is not a Symbolon CA store or is damaged (SQLite: \(message)); check the path, or restore "
                    + "the store from a backup",
                location: path)
        case SQLITE_CONSTRAINT where code == primaryKeyConstraint || message.contains("certificates.serial"):
            return StoreError(
                .duplicateSerial,
                "a certificate with this serial is already recorded (SQLite: \(message)); nothing was recorded",
                location: path)
        case SQLITE_FULL:
            return StoreError(
                .io, "the disk holding the CA store is full (SQLite: \(message)); free some space and try again",
                location: path)
        default:
            return StoreError(
                .io, "the CA store failed: SQLite error \(code): \(message)", location: path)
        }
    }
}
