import Foundation
import TestSupport
import Testing

@Suite("sessiond instances on one PostgreSQL")
struct CrossInstanceEventsTests {
    static var sessiond: String { ServerProcess.productsDirectory.appendingPathComponent("sessiond").path }

    @Test("a watcher on one instance sees changes made through another (LISTEN/NOTIFY)")
    func watchWhenChangedElsewhere() async throws {
        let database = try await StoreKind.freshDatabase()
        let shared = try PythonScript.temporaryDirectory()
        let secret = shared.appendingPathComponent("jwt-secret").path
        try "cross-instance-secret-\(UUID().uuidString)\n".write(toFile: secret, atomically: true, encoding: .utf8)
        func start() async throws -> ServerProcess {
            try await ServerProcess("sessiond", [
                "serve", "--port", "0", "--data-dir", try PythonScript.temporaryDirectory().path,
                "--database-url", database, "--jwt-secret-file", secret,
            ])
        }
        let a = try await start()
        let b = try await start()
        let portA = try #require(a.port)
        let portB = try #require(b.port)
        let token = try await runCommand(Self.sessiond, [
            "token", "--sub", "svc", "--role", "service", "--org", "cross", "--jwt-secret-file", secret,
        ]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let created = try await runCommand("/usr/bin/curl", [
            "-s", "-X", "POST", "http://127.0.0.1:\(portA)/api/sessions", "-H", "Authorization: Bearer \(token)",
            "-H", "Content-Type: application/json", "-d", #"{"jobId": "job-x", "testerId": "tester-x", "variant": "A"}"#,
        ]).output
        let id = try #require(created.firstMatch(of: /"sessionId":"([^"]+)"/)?.1, "\(created)")
        // Watch on B for a few seconds while the session is paused through A.
        let watch = Task {
            try await runCommand("/usr/bin/curl", [
                "-sN", "--max-time", "8", "-H", "Authorization: Bearer \(token)",
                "http://127.0.0.1:\(portB)/api/sessions/\(id)/events",
            ]).output
        }
        try await Task.sleep(for: .seconds(2))
        let paused = try await runCommand("/usr/bin/curl", [
            "-s", "-X", "POST", "http://127.0.0.1:\(portA)/api/sessions/\(id)/pause", "-H", "Authorization: Bearer \(token)",
        ]).output
        #expect(paused.contains(#""status":"paused""#), "\(paused)")
        let events = try await watch.value
        await a.stop()
        await b.stop()
        #expect(events.contains(#""status":"active""#), "the snapshot first: \(events)")
        #expect(events.contains(#""status":"paused""#), "the change made through A reached B's watcher: \(events)")
    }
}
