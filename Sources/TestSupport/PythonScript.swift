import Foundation

/// Runs a Python script of the test suite with the test virtual environment's interpreter.
///
/// `./tools/test` creates `.venv` with the official protobuf and gRPC packages; `SESSIOND_PYTHON`
/// overrides the interpreter. Without either, tests that need Python fail (never skip silently).
package enum PythonScript {
    package static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    package struct Output: Sendable {
        package var status: Int32
        package var text: String
    }

    package static var interpreter: String {
        ProcessInfo.processInfo.environment["SESSIOND_PYTHON"]
            ?? self.repositoryRoot.appendingPathComponent(".venv/bin/python").path
    }

    /// Runs `script` (relative to the repository root) and returns its exit status and output.
    package static func run(_ script: String, _ arguments: [String], timeout: Duration = .seconds(300)) async throws
        -> Output
    {
        guard FileManager.default.isExecutableFile(atPath: self.interpreter) else {
            throw Failure(description: "no Python at \(self.interpreter): run ./tools/test, which creates .venv")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: self.interpreter)
        process.arguments = [self.repositoryRoot.appendingPathComponent(script).path] + arguments
        process.currentDirectoryURL = self.repositoryRoot
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // Read on another thread so a chatty script never blocks on a full pipe.
        let reader = Task.detached { pipe.fileHandleForReading.readDataToEndOfFile() }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        let text = String(decoding: await reader.value, as: UTF8.self)
        return Output(status: process.terminationStatus, text: text)
    }

    /// Runs `script` and throws unless it exits 0.
    @discardableResult
    package static func check(_ script: String, _ arguments: [String], timeout: Duration = .seconds(300)) async throws
        -> String
    {
        let output = try await self.run(script, arguments, timeout: timeout)
        guard output.status == 0 else {
            throw Failure(description: "\(script) \(arguments.first ?? "") exited \(output.status):\n\(output.text)")
        }
        return output.text
    }

    package static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sessiond-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
