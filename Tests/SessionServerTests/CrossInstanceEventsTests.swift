import Foundation
import TestSupport
import Testing

@Suite("sessiond instances on one PostgreSQL")
struct CrossInstanceEventsTests {
    static var sessiond: String { ServerProcess.productsDirectory.appendingPathComponent("sessiond").path }

    /// sessiond processes on one fresh PostgreSQL database and one JWT secret, and a `service`
    /// token all accept.
    static func instances(_ count: Int) async throws -> ([ServerProcess], String) {
        let database = try await StoreKind.freshDatabase()
        let secret = try PythonScript.temporaryDirectory().appendingPathComponent("jwt-secret").path
        try "cross-instance-secret-\(UUID().uuidString)\n".write(toFile: secret, atomically: true, encoding: .utf8)
        func start() async throws -> ServerProcess {
            try await ServerProcess("sessiond", [
                "serve", "--port", "0", "--data-dir", try PythonScript.temporaryDirectory().path,
                "--database-url", database, "--jwt-secret-file", secret,
            ])
        }
        let token = try await runCommand(Self.sessiond, [
            "token", "--sub", "svc", "--role", "service", "--org", "cross", "--jwt-secret-file", secret,
        ]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        var servers: [ServerProcess] = []
        for _ in 0..<count { servers.append(try await start()) }
        return (servers, token)
    }

    @Test("a watcher on instance C sees changes made through A and through B (LISTEN/NOTIFY)")
    func watchWhenChangedElsewhere() async throws {
        let (servers, token) = try await Self.instances(3)
        let portA = try #require(servers[0].port)
        let portB = try #require(servers[1].port)
        let portC = try #require(servers[2].port)
        let created = try await runCommand("/usr/bin/curl", [
            "-s", "-X", "POST", "http://127.0.0.1:\(portA)/api/sessions", "-H", "Authorization: Bearer \(token)",
            "-H", "Content-Type: application/json", "-d", #"{"jobId": "job-x", "testerId": "tester-x", "variant": "A"}"#,
        ]).output
        let id = try #require(created.firstMatch(of: /"sessionId":"([^"]+)"/)?.1, "\(created)")
        // Watch on B for a few seconds while the session is paused through A.
        let watch = Task {
            try await runCommand("/usr/bin/curl", [
                "-sN", "--max-time", "8", "-H", "Authorization: Bearer \(token)",
                "http://127.0.0.1:\(portC)/api/sessions/\(id)/events",
            ]).output
        }
        try await Task.sleep(for: .seconds(2))
        let paused = try await runCommand("/usr/bin/curl", [
            "-s", "-X", "POST", "http://127.0.0.1:\(portA)/api/sessions/\(id)/pause", "-H", "Authorization: Bearer \(token)",
        ]).output
        #expect(paused.contains(#""status":"paused""#), "\(paused)")
        try await Task.sleep(for: .seconds(1))
        let resumed = try await runCommand("/usr/bin/curl", [
            "-s", "-X", "POST", "http://127.0.0.1:\(portB)/api/sessions/\(id)/resume", "-H", "Authorization: Bearer \(token)",
        ]).output
        #expect(resumed.contains(#""status":"active""#), "\(resumed)")
        let events = try await watch.value
        for server in servers { await server.stop() }
        let statuses = events.matches(of: /"status":"([a-z]+)"/).map { String($0.1) }
        #expect(statuses == ["active", "paused", "active"], "snapshot, A's pause, B's resume, in order: \(events)")
    }

    @Test("one idempotency key sent to two instances at once: one effect, the same reply to both")
    func idempotencyKeyWhenSentToTwoInstances() async throws {
        let (servers, token) = try await Self.instances(2)
        let ports = try servers.map { try #require($0.port) }
        let created = try await runCommand("/usr/bin/curl", [
            "-s", "-X", "POST", "http://127.0.0.1:\(ports[0])/api/sessions", "-H", "Authorization: Bearer \(token)",
            "-H", "Content-Type: application/json", "-d", #"{"jobId": "job-k", "testerId": "tester-k", "variant": "A"}"#,
        ]).output
        let id = try #require(created.firstMatch(of: /"sessionId":"([^"]+)"/)?.1, "\(created)")
        for round in 0..<5 {
            let replies = try await withThrowingTaskGroup(of: String.self) { group in
                for port in ports {
                    group.addTask {
                        try await runCommand("/usr/bin/curl", [
                            "-s", "-X", "PATCH", "http://127.0.0.1:\(port)/api/sessions/\(id)/notes",
                            "-H", "Authorization: Bearer \(token)", "-H", "Idempotency-Key: note-\(round)",
                            "-H", "Content-Type: application/json", "-d", #"{"notes": [{"content": "note \#(round)"}]}"#,
                        ]).output
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.count == 2 && replies[0] == replies[1], "round \(round): \(replies)")
            #expect(replies.allSatisfy { $0.contains(#""createdCount":1"#) }, "round \(round): \(replies)")
        }
        let notes = try await runCommand("/usr/bin/curl", [
            "-s", "http://127.0.0.1:\(ports[1])/api/sessions/\(id)/notes", "-H", "Authorization: Bearer \(token)",
        ]).output
        for server in servers { await server.stop() }
        for round in 0..<5 {
            #expect(notes.components(separatedBy: #""content":"note \#(round)""#).count - 1 == 1, "note \(round): \(notes)")
        }
    }

    @Test("concurrent creates of one (job, tester) on two instances: exactly one session")
    func createWhenRacingOnTwoInstances() async throws {
        let (servers, token) = try await Self.instances(2)
        let ports = try servers.map { try #require($0.port) }
        for round in 0..<5 {
            let statuses = try await withThrowingTaskGroup(of: String.self) { group in
                for port in ports {
                    group.addTask {
                        try await runCommand("/usr/bin/curl", [
                            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "http://127.0.0.1:\(port)/api/sessions",
                            "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                            "-d", #"{"jobId": "job-race", "testerId": "tester-\#(round)", "variant": "A"}"#,
                        ]).output
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }.sorted()
            }
            #expect(statuses == ["201", "409"], "round \(round): \(statuses)")
        }
        let listed = try await runCommand("/usr/bin/curl", [
            "-s", "http://127.0.0.1:\(ports[0])/api/sessions?jobId=job-race&limit=50", "-H", "Authorization: Bearer \(token)",
        ]).output
        for server in servers { await server.stop() }
        #expect(listed.components(separatedBy: #""sessionId""#).count - 1 == 5, "\(listed)")
    }
}
