import Foundation
import HTTP2Transport
import NIOPosix
import RPCCore
import SessionAPI
import ServiceErrors
import TestSupport
import Testing

/// The error table (README "Errors"), one row per code a client can provoke, each provoked over
/// gRPC, gRPC-Web, Connect and REST against the whole server in process: the RPC protocols get
/// the code (Connect with its HTTP status, and the offending fields in the details), REST gets
/// the table's HTTP status and the same code name in the envelope, with every offending field.
@Suite("error table, gRPC, gRPC-Web, Connect and REST from one table")
struct ErrorTableTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var code: ServiceError.Code
        var when: String
        /// Brings a fresh session to the state the row needs (nil: no session), as service in org acme.
        var state: String?
        /// The call through a session client (over gRPC, gRPC-Web or Connect).
        var grpc: @Sendable (SessionServiceClient, World, Target) async throws -> Void
        var rest: @Sendable (World, Target) async throws -> HTTPTestClient.Response
        /// Fields the error's details must name.
        var fields: [String] = []

        var testDescription: String { "\(self.code.name): \(self.when)" }
    }

    /// The session a row acts on, and a token of the tester who owns it.
    struct Target: Sendable {
        var session: String
        var testerToken: String
    }

    static func service(_ world: World) -> String { world.server.token(subject: "svc", role: "service", org: "acme") }

    static let rows: [Row] = [
        Row(
            code: .unauthenticated, when: "no token",
            grpc: { client, world, _ in
                var request = GetSessionRequest()
                request.sessionID = "sess_missing"
                _ = try await client.getSession(request, options: CallOptions())
            },
            rest: { world, _ in try await HTTPTestClient.request(port: world.server.port, "GET", "/api/sessions/sess_missing") }
        ),
        Row(
            code: .invalidArgument, when: "a create naming neither job nor tester",
            grpc: { client, world, _ in _ = try await client.createSession(CreateSessionRequest(), options: World.options(Self.service(world))) },
            rest: { world, _ in try await world.rest("POST", "/api/sessions", token: Self.service(world), body: Array("{}".utf8)) },
            fields: ["jobId", "testerId"]
        ),
        Row(
            code: .notFound, when: "a session that does not exist",
            grpc: { client, world, _ in
                var request = GetSessionRequest()
                request.sessionID = "sess_01AAAAAAAAAAAAAAAAAAAAAAAA"
                _ = try await client.getSession(request, options: World.options(Self.service(world)))
            },
            rest: { world, _ in try await world.rest("GET", "/api/sessions/sess_01AAAAAAAAAAAAAAAAAAAAAAAA", token: Self.service(world)) }
        ),
        Row(
            code: .permissionDenied, when: "a tester asks for an analysis", state: "completed",
            grpc: { client, world, target in
                var request = AnalyzeSessionRequest()
                request.sessionID = target.session
                _ = try await client.analyzeSession(request, options: World.options(target.testerToken))
            },
            rest: { world, target in try await world.rest("POST", "/api/sessions/\(target.session)/analyze", token: target.testerToken) }
        ),
        Row(
            code: .failedPrecondition, when: "resuming a session that is not paused", state: "active",
            grpc: { client, world, target in
                var request = ResumeSessionRequest()
                request.sessionID = target.session
                _ = try await client.resumeSession(request, options: World.options(Self.service(world)))
            },
            rest: { world, target in try await world.rest("POST", "/api/sessions/\(target.session)/resume", token: Self.service(world)) }
        ),
        Row(
            code: .alreadyExists, when: "feedback sent twice", state: "feedback",
            grpc: { client, world, target in
                var request = SubmitFeedbackRequest()
                request.sessionID = target.session
                request.clarity = 4
                request.difficulty = 3
                request.technicalIssues = false
                _ = try await client.submitFeedback(request, options: World.options(target.testerToken))
            },
            rest: { world, target in
                try await world.rest(
                    "POST", "/api/sessions/\(target.session)/feedback", token: target.testerToken,
                    body: Array(#"{"clarity": 4, "difficulty": 3, "technicalIssues": false}"#.utf8))
            }
        ),
    ]

    @Test("each provokable code, the same over gRPC and REST", arguments: rows)
    func code(row: Row) async throws {
        let world = try await World.shared()
        // gRPC and REST each get their own session in the row's state.
        for transport in [AuthzMatrixTests.Transport.grpc, .grpcWeb, .connect] {
            let target = try await Self.target(for: row, in: world)
            var caught: ServiceError?
            do {
                try await row.grpc(world.client(transport), world, target)
            } catch {
                caught = ServiceError(wrapping: error)
            }
            #expect(caught?.code == row.code, "\(transport): \(caught.map { "\($0)" } ?? "OK")")
            if transport != .grpc {
                let named = Set(caught?.fieldViolations.map(\.field) ?? [])
                #expect(named.isSuperset(of: row.fields), "\(transport) details name every offending field: \(named)")
            }
            if transport == .connect, let status = caught?.cause as? BrowserTestChannel.HTTPStatus {
                #expect(status.status == row.code.connectHTTPStatus, "Connect HTTP status")
            }
        }

        let restTarget = try await Self.target(for: row, in: world)
        let response = try await row.rest(world, restTarget)
        #expect(response.status == row.code.httpStatus, "REST status")
        let envelope = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let error = envelope?["error"] as? [String: Any]
        #expect(envelope?["success"] as? Bool == false && envelope?["data"] is NSNull, "REST envelope")
        #expect(error?["code"] as? String == row.code.name, "REST code name")
        let named = Set((error?["details"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
        #expect(named.isSuperset(of: row.fields), "REST details name every offending field: \(named)")
        if row.code == .unauthenticated { #expect(response.header("www-authenticate")?.hasPrefix("Bearer") == true) }
    }

    @Test("rate limited: RESOURCE_EXHAUSTED over gRPC, 429 with Retry-After over REST")
    func rateLimited() async throws {
        try await withRunningServer({ $0.rateLimits = ["tester": .init(rate: 0.001, burst: 1)] }) { server in
            let token = server.token(subject: "tester-limited", role: "tester", org: "acme")
            let path = "/api/sessions?jobId=limited"
            let first = try await HTTPTestClient.request(port: server.port, "GET", path, headers: [("authorization", "Bearer \(token)")])
            #expect(first.status == 200)
            let second = try await HTTPTestClient.request(port: server.port, "GET", path, headers: [("authorization", "Bearer \(token)")])
            #expect(second.status == ServiceError.Code.resourceExhausted.httpStatus && second.header("retry-after") != nil)
            let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: MultiThreadedEventLoopGroup.singleton)
            var request = ListSessionsRequest()
            request.jobID = "limited"
            let got = await World.verdict { _ = try await SessionServiceClient(channel: channel).listSessions(request, options: World.options(token)) }
            await channel.close()
            #expect(got == "RESOURCE_EXHAUSTED")
        }
    }

    private static func target(for row: Row, in world: World) async throws -> Target {
        let tester = "tester-\(UUID().uuidString.prefix(8))"
        let token = world.server.token(subject: tester, role: "tester", org: "acme")
        guard let state = row.state else { return Target(session: "", testerToken: token) }
        let session = try await world.prepare(org: "acme", tester: tester, state: state == "feedback" ? "completed" : state)
        if state == "feedback" {
            var request = SubmitFeedbackRequest()
            request.sessionID = session
            request.clarity = 4
            request.difficulty = 3
            request.technicalIssues = false
            _ = try await world.client.submitFeedback(request, options: World.options(token))
        }
        return Target(session: session, testerToken: token)
    }
}
