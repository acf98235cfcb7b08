import Foundation

/// Runs `CrossCheck/crosscheck.py` with the test virtual environment's Python.
///
/// `./tools/test` creates `.venv` with grpcio-tools and protobuf; `SESSIOND_PYTHON` overrides it.
/// Without either the cross-check fails (it never skips silently).
enum Python {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static var interpreter: String {
        ProcessInfo.processInfo.environment["SESSIOND_PYTHON"]
            ?? self.repositoryRoot.appendingPathComponent(".venv/bin/python").path
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: self.interpreter) else {
            throw Failure(description: "no Python at \(self.interpreter): run ./tools/test, which creates .venv")
        }
        let script = self.repositoryRoot.appendingPathComponent("Tests/ProtoGenTests/CrossCheck/crosscheck.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: self.interpreter)
        process.arguments = [script.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(description: "crosscheck.py \(arguments.first ?? "") failed:\n\(text)")
        }
        return text
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("protogen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
