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
        let output = try await PythonScript.run(
            "Tests/SessionServerTests/standard_services.py",
            ["--port", String(port), "--secret-file", data.appendingPathComponent("jwt-secret").path]
        )
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

    @Test("runs one event loop per CPU it may run on: confined to one CPU by taskset, one loop")
    func eventLoopsFollowTheAffinityMask() async throws {
        let data = try PythonScript.temporaryDirectory()
        let server = try await ServerProcess("sessiond", ["serve", "--port", "0", "--data-dir", data.path], cpus: "0")
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.processIdentifier)/task")
        let loops = threads.filter { thread in
            let name = try? String(contentsOfFile: "/proc/\(server.processIdentifier)/task/\(thread)/comm", encoding: .utf8)
            return name?.hasPrefix("NIO-ELT") == true
        }
        await server.stop()
        let errors = await server.standardError()
        #expect(errors.contains("event_loops=1"), "\(errors)")
        #expect(loops.count == 1, "event-loop threads: \(loops.count)")
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

    @Test(
        "the documented REST lifecycle and every error class with a plain HTTP client (requests, curl)",
        arguments: StoreKind.allCases
    )
    func restGateway(kind: StoreKind) async throws {
        let data = try PythonScript.temporaryDirectory()
        var arguments = ["serve", "--port", "0", "--data-dir", data.path, "--cors-origins", "https://app.example.com"]
        if kind == .postgres { arguments += ["--database-url", try await StoreKind.freshDatabase()] }
        let server = try await ServerProcess("sessiond", arguments)
        let port = try #require(server.port)
        let output = try await PythonScript.run(
            "Tests/SessionServerTests/rest_gateway.py",
            ["--port", String(port), "--secret-file", data.appendingPathComponent("jwt-secret").path,
                "--cors-origin", "https://app.example.com"]
        )
        await server.stop()
        Self.expectAllPassed(output)
        // Hundreds of requests with tokens, good and bad: none of it, nor the secret, is logged.
        let log = await server.standardError()
        let secret = try String(contentsOf: data.appendingPathComponent("jwt-secret"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!log.contains("eyJ") && !log.contains(secret), "\(log)")
    }

    @Test("REST over TLS: ALPN h2 and HTTP/1.1 on the gRPC port, with curl")
    func restOverTLS() async throws {
        let data = try PythonScript.temporaryDirectory()
        let cert = data.appendingPathComponent("cert.pem").path
        let key = data.appendingPathComponent("key.pem").path
        let (made, text) = try await runCommand(
            "/usr/bin/openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        )
        #expect(made == 0, "\(text)")
        let server = try await ServerProcess(
            "sessiond", ["serve", "--port", "0", "--data-dir", data.path, "--tls-cert", cert, "--tls-key", key])
        let port = try #require(server.port)
        let sessiond = ServerProcess.productsDirectory.appendingPathComponent("sessiond").path
        let (_, minted) = try await runCommand(
            sessiond, ["token", "--sub", "svc", "--role", "service", "--org", "tls", "--data-dir", data.path])
        let token = minted.trimmingCharacters(in: .whitespacesAndNewlines)
        for version in ["--http2", "--http1.1"] {
            let (status, output) = try await runCommand(
                "/usr/bin/curl",
                ["-s", "--cacert", cert, version, "-w", "\n%{http_version} %{http_code}", "-X", "POST",
                    "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                    "-d", #"{"jobId": "job-tls", "testerId": "tester-\#(version)"}"#,
                    "https://127.0.0.1:\(port)/api/sessions"]
            )
            let expected = version == "--http2" ? "2 201" : "1.1 201"
            #expect(status == 0 && output.hasSuffix(expected) && output.contains(#""success":true"#), "\(version): \(output)")
            let (_, denied) = try await runCommand(
                "/usr/bin/curl", ["-s", "--cacert", cert, version, "-w", "\n%{http_code}", "https://127.0.0.1:\(port)/api/sessions"])
            #expect(denied.hasSuffix("401") && denied.contains("UNAUTHENTICATED"), "\(version): \(denied)")
        }
        await server.stop()
    }

    @Test("the REST gateway as its own process (--upstream) forwards to a remote sessiond over gRPC")
    func restGatewayUpstream() async throws {
        let data = try PythonScript.temporaryDirectory()
        let backend = try await ServerProcess("sessiond", ["serve", "--port", "0", "--data-dir", data.path])
        let backendPort = try #require(backend.port)
        let secret = data.appendingPathComponent("jwt-secret").path
        let gateway = try await ServerProcess(
            "sessiond",
            ["serve", "--port", "0", "--data-dir", data.appendingPathComponent("gateway").path,
                "--upstream", "http://127.0.0.1:\(backendPort)", "--jwt-secret-file", secret,
                "--cors-origins", "https://app.example.com"]
        )
        let port = try #require(gateway.port)
        let output = try await PythonScript.run(
            "Tests/SessionServerTests/rest_gateway.py",
            ["--port", String(port), "--secret-file", secret, "--cors-origin", "https://app.example.com", "--upstream"]
        )
        await gateway.stop()
        await backend.stop()
        Self.expectAllPassed(output)
    }

    /// A check script's verdict: every check passed (failures are printed, passes are not).
    private static func expectAllPassed(_ output: PythonScript.Output) {
        print(output.text.split(separator: "\n").filter { !$0.hasPrefix("PASS") }.joined(separator: "\n"))
        #expect(output.status == 0, "\(output.text)")
        #expect(output.text.contains(" 0 failed"), "\(output.text)")
    }

    @Test("/openapi.json is valid OpenAPI 3.1 and schemathesis finds no reply that contradicts it")
    func openAPIDocument() async throws {
        let data = try PythonScript.temporaryDirectory()
        let server = try await ServerProcess(
            "sessiond",
            ["serve", "--port", "0", "--data-dir", data.path,
                // The fuzzer sends far more than a person would; it is not what is under test here.
                "--rate-limits", "tester=2000/4000,researcher=2000/4000,admin=2000/4000"]
        )
        let port = try #require(server.port)
        let output = try await PythonScript.run(
            "Tests/SessionServerTests/rest_openapi.py",
            ["--port", String(port), "--secret-file", data.appendingPathComponent("jwt-secret").path],
            timeout: .seconds(900)
        )
        await server.stop()
        print(output.text)
        #expect(output.status == 0, "\(output.text)")
        #expect(output.text.contains(" 0 failed"), "\(output.text)")
    }

    @Test("JWTs from PyJWT: HS, RS and ES keys from PEM files and a JWKS, every rejection, rotation without restart")
    func jwtKeys() async throws {
        let output = try await PythonScript.run(
            "Tests/SessionServerTests/jwt_keys.py",
            ["--binary", ServerProcess.productsDirectory.appendingPathComponent("sessiond").path]
        )
        Self.expectAllPassed(output)
    }

    @Test(
        "kill -9 under a mixed lifecycle load, 5 times: no acknowledged write lost, every analysis finished, no payout doubled",
        arguments: StoreKind.allCases
    )
    func crashLoop(kind: StoreKind) async throws {
        var arguments = ["--binary", ServerProcess.productsDirectory.appendingPathComponent("sessiond").path, "--cycles", "5"]
        if kind == .postgres { arguments += ["--database-url", try await StoreKind.freshDatabase()] }
        let output = try await PythonScript.run("Tests/SessionServerTests/crash_loop.py", arguments, timeout: .seconds(600))
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
