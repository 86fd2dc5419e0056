import Foundation
import TestSupport
import Testing
import X509

@Suite("Atomic files")
struct SecureFileTests {
    @Test("a staged file is invisible until committed, and a discarded one leaves nothing behind")
    func staging() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("out.pem")
        let staged = try SecureFile.stage(Data("new".utf8), to: path)
        #expect(!FileManager.default.fileExists(atPath: path))
        try staged.commit()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
        try SecureFile.stage(Data("other".utf8), to: path).discard()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
        #expect(directory.listing() == ["out.pem"])
    }

    @Test("a write that must not overwrite refuses an existing file and keeps it")
    func noOverwrite() throws {
        let directory = TemporaryDirectory()
        let path = try directory.write("keep.pem", "old")
        #expect(throws: X509Error.self) { try SecureFile.write("new", to: path, overwrite: false) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(directory.listing() == ["keep.pem"])
    }

    @Test("reading a directory or a missing file says which")
    func readErrors() throws {
        let directory = TemporaryDirectory()
        let isDirectory = #expect(throws: X509Error.self) { try SecureFile.read(directory.path) }
        #expect(isDirectory?.reason.contains("directory") == true)
        let missing = #expect(throws: X509Error.self) { try SecureFile.read(directory.file("nope")) }
        #expect(missing?.reason.contains("no such file") == true)
    }
}
