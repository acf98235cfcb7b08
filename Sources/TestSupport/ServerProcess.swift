import Foundation

/// A built executable of this package (`sessiond`, `interop-server`) running as a child process,
/// for tests that exercise the real binary and its command-line contract.
package final class ServerProcess: @unchecked Sendable {
    private let process: Process
    package let firstLine: String
    private let errorOutput: Pipe

    /// The directory holding the package's built products (next to the test bundle).
    package static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// Starts `product` with `arguments` (confined to the CPU list `cpus` with `taskset`, when
    /// given) and waits for its first line (`listening on HOST:PORT`); `environment` adds to this
    /// process's environment.
    package init(
        _ product: String,
        _ arguments: [String],
        cpus: String? = nil,
        environment: [String: String] = [:],
        timeout: Duration = .seconds(30)
    ) async throws {
        let executable = Self.productsDirectory.appendingPathComponent(product)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw PythonScript.Failure(description: "\(executable.path) is not built; run `swift build` first")
        }
        let process = Process()
        if let cpus {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
            process.arguments = ["-c", cpus, executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        self.process = process
        self.errorOutput = errors
        let watchdog = Task.detached {
            try await Task.sleep(for: timeout)
            process.terminate()
        }
        self.firstLine = await readLine(from: output)
        watchdog.cancel()
        guard self.firstLine.hasPrefix("listening on ") else {
            process.terminate()
            throw PythonScript.Failure(description: "\(product) printed '\(self.firstLine)' instead of its address")
        }
    }

    package var port: Int? {
        self.firstLine.split(separator: ":").last.flatMap { Int($0) }
    }

    package var processIdentifier: Int32 { self.process.processIdentifier }

    /// Sends `signal` and waits for the process to exit; returns its exit status.
    @discardableResult
    package func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) async -> Int32 {
        if self.process.isRunning { kill(self.process.processIdentifier, signal) }
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
        let process = self.process
        await runBlocking { process.waitUntilExit() }
        return self.process.terminationStatus
    }

    /// Everything the process wrote to standard error (after it stopped).
    package func standardError() async -> String {
        let pipe = self.errorOutput
        return String(decoding: await runBlocking { pipe.fileHandleForReading.readDataToEndOfFile() }, as: UTF8.self)
    }
}
