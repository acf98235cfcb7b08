import Foundation
import Synchronization

/// Runs a Python script of the test suite with the test virtual environment's interpreter.
///
/// `./tools/test` creates `.venv` with the official protobuf and gRPC packages; `SESSIOND_PYTHON`
/// overrides the interpreter. Without either, tests that need Python fail (never skip silently).
package enum PythonScript {
    package static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    package struct Failure: Error, CustomStringConvertible {
        package var description: String

        package init(description: String) {
            self.description = description
        }
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
        // Client scripts are the suite's heaviest work; run as many at once as there are cores,
        // so the rest of the suite (timeouts, start-up bounds) is not starved by dozens at once.
        await ClientScripts.slots.acquire()
        defer { ClientScripts.slots.release() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: self.interpreter)
        process.arguments = [self.repositoryRoot.appendingPathComponent(script).path] + arguments
        process.currentDirectoryURL = self.repositoryRoot
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let watchdog = Task.detached {
            try await Task.sleep(for: timeout)
            process.terminate()
        }
        let data = await runBlocking { pipe.fileHandleForReading.readDataToEndOfFile() }
        await runBlocking { process.waitUntilExit() }
        watchdog.cancel()
        let text = String(decoding: data, as: UTF8.self)
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

/// Who runs a client script now: at most one per core, the rest wait in line (first come, first
/// served). A script's time limit starts when it runs, not while it waits.
enum ClientScripts {
    static let slots = Slots(ProcessInfo.processInfo.activeProcessorCount)
}

/// A counting semaphore for tasks: `acquire` waits for one of `count` slots, `release` hands it on.
final class Slots: Sendable {
    private struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    init(_ count: Int) {
        self.state = Mutex(State(free: max(1, count)))
    }

    func acquire() async {
        await withCheckedContinuation { continuation in
            let granted = self.state.withLock { state in
                guard state.free > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.free -= 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}

/// A Python script running in the background, e.g. a stock grpcio server.
package final class BackgroundScript: @unchecked Sendable {
    private let process: Process
    private let input: Pipe
    /// The first line the script printed, e.g. `listening on 127.0.0.1:43817`.
    package let firstLine: String

    /// Starts `script` and waits (at most `timeout`) for its first line of output.
    package init(_ script: String, _ arguments: [String] = [], timeout: Duration = .seconds(30)) async throws {
        guard FileManager.default.isExecutableFile(atPath: PythonScript.interpreter) else {
            throw PythonScript.Failure(description: "no Python at \(PythonScript.interpreter): run ./tools/test")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PythonScript.interpreter)
        process.arguments = ["-u", PythonScript.repositoryRoot.appendingPathComponent(script).path] + arguments
        process.currentDirectoryURL = PythonScript.repositoryRoot.appendingPathComponent(script).deletingLastPathComponent()
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        self.process = process
        self.input = input
        // A watchdog ends the script if it prints nothing in time, which also ends the read.
        let watchdog = Task.detached {
            try await Task.sleep(for: timeout)
            process.terminate()
        }
        let line = await readLine(from: output)
        watchdog.cancel()
        guard !line.isEmpty else {
            process.terminate()
            throw PythonScript.Failure(description: "\(script) did not start")
        }
        self.firstLine = line
    }

    /// The port from a `listening on HOST:PORT` line.
    package var port: Int? {
        self.firstLine.split(separator: ":").last.flatMap { Int($0) }
    }

    /// Closes the script's input (its cue to stop) and ends it.
    package func stop() async {
        try? self.input.fileHandleForWriting.close()
        if self.process.isRunning { self.process.terminate() }
        let process = self.process
        await runBlocking { process.waitUntilExit() }
    }
}
