import Foundation

/// Reads and writes files the way the rest of Symbolon expects: size-limited reads, atomic writes.
public enum SecureFile {
    /// The file's contents, refusing files larger than `limit` bytes.
    public static func read(_ path: String, limit: Int = PEMBlock.maximumInputSize) throws -> Data {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw X509Error(.io, "is a directory; give a file", file: path)
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw X509Error(.io, exists ? "cannot read the file (check its permissions)" : "no such file", file: path)
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: limit + 1)) ?? Data()
        guard data.count <= limit else {
            throw X509Error(.tooLarge, "file is larger than \(limit) bytes", file: path)
        }
        return data
    }

    /// The file's contents as UTF-8 text (invalid bytes become U+FFFD and fail PEM parsing with a clear message).
    public static func readText(_ path: String) throws -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// Writes `data` to `path` atomically: a temporary file in the same directory, flushed, then renamed, so a
    /// reader sees the old file or the new one, never half of either. `permissions` applies to the new file.
    /// Refuses to replace an existing file unless `overwrite` is true.
    public static func write(_ data: Data, to path: String, permissions: Int = 0o644, overwrite: Bool = true) throws {
        if !overwrite, FileManager.default.fileExists(atPath: path) {
            throw X509Error(.io, "file exists already; remove it or choose another path", file: path)
        }
        try stage(data, to: path, permissions: permissions).commit(overwrite: overwrite)
    }

    /// Writes `data` in full (flushed to disk) to a temporary file next to `path`, without making it visible at
    /// `path` yet: see `StagedFile`.
    public static func stage(_ data: Data, to path: String, permissions: Int = 0o644) throws -> StagedFile {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary =
            directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(permissions))
        guard fd >= 0 else {
            throw X509Error(.io, "cannot write in \(directory): \(String(cString: strerror(errno)))", file: path)
        }
        var ok = true
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    ok = false
                    return
                }
                offset += n
            }
        }
        let savedErrno = errno
        if ok { ok = fsync(fd) == 0 }
        close(fd)
        guard ok else {
            unlink(temporary)
            throw X509Error(.io, "cannot write: \(String(cString: strerror(savedErrno)))", file: path)
        }
        return StagedFile(path: path, temporary: temporary)
    }

    /// Writes text atomically; see `write(_:to:permissions:overwrite:)`.
    public static func write(_ text: String, to path: String, permissions: Int = 0o644, overwrite: Bool = true) throws {
        try write(Data(text.utf8), to: path, permissions: permissions, overwrite: overwrite)
    }
}

/// A file written in full next to its destination but not yet visible there. `commit` moves it into place
/// atomically; `discard` removes it. Lets a caller make files and a database row appear together or not at all:
/// stage the files, commit the row, then commit the files.
public struct StagedFile: Sendable {
    /// Where the file will appear.
    public let path: String
    let temporary: String

    /// Moves the file into place. With `overwrite` false, fails (and discards) if `path` exists.
    public func commit(overwrite: Bool = true) throws {
        if overwrite {
            guard rename(temporary, path) == 0 else {
                let message = String(cString: strerror(errno))
                discard()
                throw X509Error(.io, "cannot replace the file: \(message)", file: path)
            }
        } else {
            // link() fails if the target exists, so two writers racing for a new name cannot clobber each other.
            guard link(temporary, path) == 0 else {
                let message = String(cString: strerror(errno))
                discard()
                throw X509Error(.io, "cannot create the file: \(message)", file: path)
            }
            discard()
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Removes the staged file; `path` is left as it was.
    public func discard() { unlink(temporary) }
}
