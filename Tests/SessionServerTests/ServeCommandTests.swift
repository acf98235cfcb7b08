import Foundation
import TestSupport
import Testing

@Suite("sessiond serve")
struct ServeCommandTests {
    @Test("prints its address first, answers health and reflection to stock clients, stops cleanly on SIGTERM")
    func standardServices() async throws {
        let data = try PythonScript.temporaryDirectory()
        let server = try await ServerProcess("sessiond", ["serve", "--port", "0", "--data-dir", data.path])
        let port = try #require(server.port)
        let output = try await PythonScript.run("Tests/SessionServerTests/standard_services.py", ["--port", String(port)])
        let status = await server.stop()
        print(output.text)
        #expect(output.status == 0, "\(output.text)")
        #expect(output.text.contains(" 0 failed"))
        let errors = await server.standardError()
        #expect(status == 0, "exit status \(status): \(errors)")
        // First start created the local JWT secret, readable by the owner only.
        let secret = data.appendingPathComponent("jwt-secret").path
        #expect(try FileManager.default.attributesOfItem(atPath: secret)[.posixPermissions] as? Int == 0o600)
    }

    @Test(
        "the documented lifecycle over gRPC with stock clients (grpcio, PyJWT): auth, idempotency, payout",
        arguments: StoreKind.allCases
    )
    func lifecycleOverGRPC(kind: StoreKind) async throws {
        let data = try PythonScript.temporaryDirectory()
        var arguments = ["serve", "--port", "0", "--data-dir", data.path]
        if kind == .postgres { arguments += ["--database-url", try await StoreKind.freshDatabase()] }
        let server = try await ServerProcess("sessiond", arguments)
        let port = try #require(server.port)
        let output = try await PythonScript.run(
            "Tests/SessionServerTests/lifecycle_grpc.py",
            ["--port", String(port), "--secret-file", data.appendingPathComponent("jwt-secret").path]
        )
        await server.stop()
        print(output.text)
        #expect(output.status == 0, "\(output.text)")
        #expect(output.text.contains(" 0 failed"), "\(output.text)")
        let ledger = try String(contentsOf: data.appendingPathComponent("payout-ledger.jsonl"), encoding: .utf8)
        #expect(ledger.split(separator: "\n").count == 1, "one payout in the ledger: \(ledger)")
    }

    @Test("kill -9 under write load loses no acknowledged create or confirm and never doubles a payout")
    func crashRecovery() async throws {
        let output = try await PythonScript.run(
            "Tests/SessionServerTests/crash_test.py",
            ["--binary", ServerProcess.productsDirectory.appendingPathComponent("sessiond").path, "--iterations", "10"],
            timeout: .seconds(600)
        )
        print(output.text.split(separator: "\n").suffix(6).joined(separator: "\n"))
        #expect(output.status == 0, "\(output.text)")
        #expect(output.text.contains(" 0 failed"), "\(output.text)")
    }

    @Test("rejects bad flags with a message naming the flag")
    func badFlags() async throws {
        let (status, text) = try await runCommand(
            ServerProcess.productsDirectory.appendingPathComponent("sessiond").path,
            ["serve", "--port", "70000"]
        )
        #expect(status != 0)
        #expect(text.contains("--port"), "\(text)")
    }
}
