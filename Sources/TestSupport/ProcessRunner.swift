import Foundation

/// What a finished process printed and how it exited.
public struct ProcessResult: Sendable, CustomStringConvertible {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// Runs real programs (the built `symbolon`, `openssl`, `pk12util`) with a time limit, for end-to-end tests.
public enum ProcessRunner {
    /// Runs `executable` (a path, or a name found on PATH) and waits at most `timeout` seconds; a process still
    /// running then is killed and reported with status -9, so a hang fails the test instead of stalling the suite.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
        timeout: TimeInterval = 120
    ) throws -> ProcessResult {
        let process = Process()
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        }
        process.arguments = executable.contains("/") ? arguments : [executable] + arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SYMBOLON_PASSPHRASE")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty process never blocks on a full pipe.
        let outData = LockedData()
        let errData = LockedData()
        let group = DispatchGroup()
        for (pipe, sink) in [(out, outData), (err, errData)] {
            group.enter()
            DispatchQueue.global().async {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        var status: Int32
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            status = -9
        } else {
            process.waitUntilExit()
            status = process.terminationStatus
        }
        group.wait()
        return ProcessResult(
            status: status, stdout: String(decoding: outData.get(), as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    /// The `symbolon` binary built next to the test bundle (`.build/<config>/symbolon`), or `$SYMBOLON_BIN`.
    public static var symbolonPath: String {
        if let path = ProcessInfo.processInfo.environment["SYMBOLON_BIN"] { return path }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("symbolon").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        let fromSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/symbolon").path
        return fromSource
    }

    /// Runs the built `symbolon` with `arguments`.
    public static func symbolon(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil)
        throws -> ProcessResult
    {
        try run(symbolonPath, arguments, environment: environment, stdin: stdin)
    }

    /// Whether a program is on PATH.
    public static func isAvailable(_ program: String) -> Bool {
        (try? run("/bin/sh", ["-c", "command -v \(program)"]).status) == 0
    }
}

final class LockedData: @unchecked Sendable {  // @unchecked: every access goes through the lock
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}
