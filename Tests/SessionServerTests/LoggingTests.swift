import Foundation
import TestSupport
import Testing

@Suite("sessiond logs")
struct LoggingTests {
    @Test("--access-log --log-format json: one JSON object per line, a line per REST request and gRPC call, no credentials")
    func accessLogWhenJSON() async throws {
        let data = try PythonScript.temporaryDirectory()
        let server = try await ServerProcess(
            "sessiond", ["serve", "--port", "0", "--data-dir", data.path, "--access-log", "--log-format", "json"]
        )
        let port = try #require(server.port)
        _ = try await runCommand("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/healthz"])
        _ = try await runCommand("/usr/bin/curl", ["-s", "-H", "Authorization: Bearer not.a.token", "http://127.0.0.1:\(port)/api/sessions/sess_x"])
        let grpc = try await PythonScript.run("Tests/SessionServerTests/standard_services.py", ["--port", String(port)])
        #expect(grpc.status == 0, "\(grpc.text)")
        #expect(await server.stop() == 0)
        let log = await server.standardError()
        let lines = log.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        #expect(objects.count == lines.count, "every line is a JSON object of strings: \(log)")
        let requests = objects.filter { $0["message"] == "request" }
        #expect(requests.contains { $0["path"] == "/healthz" && $0["status"] == "200" && $0["level"] == "info" })
        #expect(requests.contains { $0["path"] == "/api/sessions/sess_x" && $0["status"] == "401" && $0["duration_ms"] != nil })
        let calls = objects.filter { $0["message"] == "call" && $0["protocol"] == "grpc" }
        #expect(calls.contains { $0["method"] == "/grpc.health.v1.Health/Check" && $0["status"] == "OK" })
        #expect(calls.contains { $0["status"] == "NOT_FOUND" })  // health of an unknown service
        #expect(!log.contains("not.a.token"))
        let secret = try String(contentsOf: data.appendingPathComponent("jwt-secret"), encoding: .utf8)
        #expect(!log.contains(secret.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test("a log level or format that is not one is refused at start", arguments: [
        ["--log-level", "verbose"], ["--log-format", "xml"],
    ])
    func settingWhenInvalid(arguments: [String]) async throws {
        let data = try PythonScript.temporaryDirectory()
        let executable = ServerProcess.productsDirectory.appendingPathComponent("sessiond").path
        let result = try await runCommand(executable, ["serve", "--port", "0", "--data-dir", data.path] + arguments)
        #expect(result.status == 2)
        #expect(result.output.contains(arguments[0]), "\(result.output)")
    }
}
