import Foundation
import PrivateCA
import X509

/// Checks on output paths made before any work, so a failure cannot leave a recorded certificate without its file.
enum OutputFile {
    /// The path with `.`/`..` and symbolic links in its directory resolved, to compare output paths.
    static func canonical(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let directory = url.deletingLastPathComponent().path
        guard let resolved = realpath(directory, nil) else { return url.path }
        defer { free(resolved) }
        return String(cString: resolved) + "/" + url.lastPathComponent
    }

    /// Like `checkWritable(_:)`, and also refuses the CA's own files (keys, certificates, store, configuration).
    static func checkWritable(_ path: String, notOverwriting ca: CADirectory) throws {
        let target = canonical(path)
        let protected = [
            ca.rootKey, ca.rootCertificate, ca.intermediateKey, ca.intermediateCertificate, ca.database,
            ca.configuration, ca.profiles,
        ]
        if protected.contains(where: { canonical($0) == target }) {
            throw X509Error(.io, "is one of the CA's own files; choose another output path", file: path)
        }
        try checkWritable(path)
    }

    static func checkWritable(_ path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw X509Error(.io, "the directory \(directory) does not exist", file: path)
        }
        guard access(directory, W_OK) == 0 else {
            throw X509Error(.io, "cannot write in \(directory) (check its permissions)", file: path)
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw X509Error(.io, "is a directory; give a file path", file: path)
        }
    }
}
