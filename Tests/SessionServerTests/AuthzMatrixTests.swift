import Foundation
import HTTP2Transport
import NIOPosix
import RPCCore
import SessionAPI
import ServiceErrors
import TestSupport
import Testing

/// The authorization table, cell by cell, against the whole server running in process: every
/// session RPC over gRPC (our client), gRPC-Web and Connect (JSON codec; plain HTTP/1.1, as a
/// browser sends them) and REST, for every role, on a session that is the caller's own, another
/// tester's of the same organization, or another organization's. Each cell gets a fresh session
/// in the state its call needs, so only authorization can fail it; every protocol must give the
/// same verdict.
@Suite("authorization matrix, gRPC, gRPC-Web, Connect and REST from one table")
struct AuthzMatrixTests {
    enum Verdict: String, Sendable {
        case ok = "OK", notFound = "NOT_FOUND", denied = "PERMISSION_DENIED"

        var httpStatuses: Set<Int> {
            switch self {
            case .ok: [200, 201, 202]
            case .notFound: [404]
            case .denied: [403]
            }
        }
    }

    enum Transport: String, Sendable, CaseIterable { case grpc, grpcWeb, connect, rest }

    static let roles = ["tester", "researcher", "admin", "service"]
    static let relations = ["own", "peer", "foreign"]  // own; another tester's, same org; another org's

    /// The state each call needs, and the roles that may make it on a session they can see.
    static let table: [(method: String, needs: String, may: Set<String>)] = [
        ("GetSession", "active", Set(roles)),
        ("WatchSession", "active", Set(roles)),
        ("PauseSession", "active", Set(roles)),
        ("ResumeSession", "paused", Set(roles)),
        ("CompleteSession", "active", Set(roles)),
        ("SubmitFeedback", "completed", ["tester"]),
        ("AnalyzeSession", "completed", ["researcher", "admin", "service"]),
        ("GetAnalysis", "analyzed", ["researcher", "admin", "service"]),
        ("GetNotes", "active", ["researcher", "admin", "service"]),
        ("UpdateNotes", "active", ["researcher", "admin", "service"]),
        ("ConfirmSession", "analyzed", ["researcher", "admin"]),
    ]

    static func expected(_ method: String, role: String, relation: String) -> Verdict {
        if relation == "foreign" || (relation == "peer" && role == "tester") { return .notFound }
        let may = Self.table.first { $0.method == method }!.may
        return may.contains(role) ? .ok : .denied
    }

    @Test("each session call gives every role the verdict of the table", arguments: table.map(\.method), Transport.allCases)
    func sessionCall(method: String, transport: Transport) async throws {
        let world = try await World.shared()
        let needs = Self.table.first { $0.method == method }!.needs
        for role in Self.roles {
            for relation in Self.relations {
                let caller = "\(role)-\(UUID().uuidString.prefix(8))"
                let owner = relation == "own" && role == "tester" ? caller : "owner-\(UUID().uuidString.prefix(8))"
                let session = try await world.prepare(org: relation == "foreign" ? "globex" : "acme", tester: owner, state: needs)
                let token = world.server.token(subject: caller, role: role, org: "acme")
                let want = Self.expected(method, role: role, relation: relation)
                switch transport {
                case .grpc, .grpcWeb, .connect:
                    let got = await world.grpcVerdict(method, session: session, token: token, client: world.client(transport))
                    #expect(got == want.rawValue, "\(transport) \(method) as \(role) on a \(relation) session")
                case .rest:
                    let got = try await world.restStatus(method, session: session, token: token)
                    #expect(want.httpStatuses.contains(got), "REST \(method) as \(role) on a \(relation) session: \(got)")
                }
            }
        }
    }

    @Test("a tester creates sessions only for themselves; every other role for any tester", arguments: Transport.allCases)
    func createSession(transport: Transport) async throws {
        let world = try await World.shared()
        for role in Self.roles {
            for relation in ["own", "peer"] {
                let caller = "\(role)-\(UUID().uuidString.prefix(8))"
                let tester = relation == "own" ? caller : "someone-\(UUID().uuidString.prefix(8))"
                let want: Verdict = role == "tester" && relation == "peer" ? .denied : .ok
                let token = world.server.token(subject: caller, role: role, org: "acme")
                switch transport {
                case .grpc, .grpcWeb, .connect:
                    var request = CreateSessionRequest()
                    request.jobID = "job-authz"
                    request.testerID = tester
                    let client = world.client(transport)
                    let got = await World.verdict { _ = try await client.createSession(request, options: World.options(token)) }
                    #expect(got == want.rawValue, "\(transport) CreateSession as \(role) for \(relation)")
                case .rest:
                    let body = Array(#"{"jobId": "job-authz", "testerId": "\#(tester)"}"#.utf8)
                    let got = try await world.rest("POST", "/api/sessions", token: token, body: body).status
                    #expect(want.httpStatuses.contains(got), "REST CreateSession as \(role) for \(relation): \(got)")
                }
            }
        }
    }

    @Test("everyone may list, and sees only what they may see", arguments: Transport.allCases)
    func listSessions(transport: Transport) async throws {
        let world = try await World.shared()
        let job = "list-\(UUID().uuidString.prefix(8))"
        let lister = "lister-\(UUID().uuidString.prefix(8))"
        let mine = try await world.create(org: "acme", job: job, tester: lister)
        let theirs = try await world.create(org: "acme", job: job, tester: "other-\(UUID().uuidString.prefix(8))")
        let foreign = try await world.create(org: "globex", job: job, tester: lister)
        for role in Self.roles {
            let token = world.server.token(subject: role == "tester" ? lister : "\(role)-lister", role: role, org: "acme")
            let want: Set<String> = role == "tester" ? [mine] : [mine, theirs]
            let listed: Set<String>
            switch transport {
            case .grpc, .grpcWeb, .connect:
                var request = ListSessionsRequest()
                request.jobID = job
                listed = Set(
                    try await world.client(transport).listSessions(request, options: World.options(token)).sessions.map(\.sessionID))
            case .rest:
                let response = try await world.rest("GET", "/api/sessions?jobId=\(job)", token: token)
                let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
                let data = object?["data"] as? [[String: Any]] ?? []
                listed = Set(data.compactMap { $0["sessionId"] as? String })
            }
            #expect(listed == want && !listed.contains(foreign), "\(transport) ListSessions as \(role)")
        }
    }

    @Test("payouts: admins and services of the org only, never another org's")
    func listPayouts() async throws {
        let world = try await World.shared()
        let paid = try await world.prepare(org: "globex", tester: "paid-\(UUID().uuidString.prefix(8))", state: "analyzed")
        var confirm = ConfirmSessionRequest()
        confirm.sessionID = paid
        confirm.rating = 4
        _ = try await world.client.confirmSession(confirm, options: World.options(world.server.token(subject: "res", role: "researcher", org: "globex")))
        var request = ListPayoutsRequest()
        request.pageSize = 200
        let own = try await world.client.listPayouts(request, options: World.options(world.server.token(subject: "svc", role: "service", org: "globex")))
        #expect(own.payouts.contains { $0.sessionID == paid }, "an org sees its own payout")
        for transport in [Transport.grpc, .grpcWeb, .connect] {
            for role in Self.roles {
                let token = world.server.token(subject: "\(role)-payouts", role: role, org: "acme")
                let client = world.client(transport)
                let got = await World.verdict {
                    let payouts = try await client.listPayouts(request, options: World.options(token)).payouts
                    #expect(!payouts.contains { $0.sessionID == paid }, "ListPayouts as \(role) never shows another org's payout")
                }
                #expect(got == (["admin", "service"].contains(role) ? "OK" : "PERMISSION_DENIED"), "\(transport) ListPayouts as \(role)")
            }
        }
    }
}

/// One server and one gRPC client shared by every cell of the matrix (started on first use; the
/// process ends it), with rate limits high enough for a few thousand calls.
struct World: Sendable {
    let server: RunningServer
    let client: SessionServiceClient

    private static let started = Task {
        let server = try await RunningServer.start { configuration in
            configuration.rateLimits = [:]  // unlimited: the matrix makes thousands of calls
        }
        let channel = GRPCChannel(host: "127.0.0.1", port: server.port, group: MultiThreadedEventLoopGroup.singleton)
        return World(server: server, client: SessionServiceClient(channel: channel))
    }

    static func shared() async throws -> World { try await Self.started.value }

    /// The session client over `transport`: our gRPC client, or gRPC-Web and Connect (JSON) as a
    /// browser speaks them.
    func client(_ transport: AuthzMatrixTests.Transport) -> SessionServiceClient {
        switch transport {
        case .grpc, .rest: self.client
        case .grpcWeb: SessionServiceClient(channel: BrowserTestChannel(port: self.server.port, protocol: .grpcWeb))
        case .connect:
            SessionServiceClient(
                channel: BrowserTestChannel(port: self.server.port, protocol: .connectJSON, codecs: SessionServiceJSONCodecs.all))
        }
    }

    static func options(_ token: String) -> CallOptions {
        CallOptions(metadata: Metadata([("authorization", "Bearer \(token)")]), timeout: .seconds(10))
    }

    /// "OK", or the gRPC status name the call failed with.
    static func verdict(_ call: () async throws -> Void) async -> String {
        do {
            try await call()
            return "OK"
        } catch {
            return ServiceError(wrapping: error).code.name
        }
    }

    func create(org: String, job: String = "job-authz", tester: String) async throws -> String {
        var request = CreateSessionRequest()
        request.jobID = job
        request.testerID = tester
        return try await self.client.createSession(request, options: Self.options(self.server.token(subject: "svc", role: "service", org: org))).sessionID
    }

    /// A session of `tester` in `org`, brought to `state` by that org's service and researcher.
    func prepare(org: String, tester: String, state: String) async throws -> String {
        let service = Self.options(self.server.token(subject: "svc", role: "service", org: org))
        let id = try await self.create(org: org, tester: tester)
        if state == "paused" {
            var request = PauseSessionRequest()
            request.sessionID = id
            _ = try await self.client.pauseSession(request, options: service)
        }
        if state == "completed" || state == "analyzed" {
            var request = CompleteSessionRequest()
            request.sessionID = id
            _ = try await self.client.completeSession(request, options: service)
        }
        if state == "analyzed" {
            var request = AnalyzeSessionRequest()
            request.sessionID = id
            _ = try await self.client.analyzeSession(request, options: Self.options(self.server.token(subject: "res", role: "researcher", org: org)))
            var get = GetSessionRequest()
            get.sessionID = id
            let deadline = ContinuousClock.now + .seconds(20)
            while try await self.client.getSession(get, options: service).status != .analyzed {
                guard ContinuousClock.now < deadline else { throw TestFailure("\(id) never got analyzed") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        return id
    }

    private struct FirstEvent: Error {}

    func grpcVerdict(_ method: String, session id: String, token: String, client: SessionServiceClient? = nil) async -> String {
        let options = Self.options(token)
        let client = client ?? self.client
        return await Self.verdict {
            switch method {
            case "GetSession":
                var request = GetSessionRequest()
                request.sessionID = id
                _ = try await client.getSession(request, options: options)
            case "WatchSession":
                var request = WatchSessionRequest()
                request.sessionID = id
                // The first event is enough: the client stops the stream by throwing from its
                // handler, which the channel reports wrapped.
                do {
                    try await client.watchSession(request, options: options) { _ in throw FirstEvent() }
                } catch let error as ServiceError where error.cause is FirstEvent {}
            case "PauseSession":
                var request = PauseSessionRequest()
                request.sessionID = id
                _ = try await client.pauseSession(request, options: options)
            case "ResumeSession":
                var request = ResumeSessionRequest()
                request.sessionID = id
                _ = try await client.resumeSession(request, options: options)
            case "CompleteSession":
                var request = CompleteSessionRequest()
                request.sessionID = id
                _ = try await client.completeSession(request, options: options)
            case "AnalyzeSession":
                var request = AnalyzeSessionRequest()
                request.sessionID = id
                _ = try await client.analyzeSession(request, options: options)
            case "GetAnalysis":
                var request = GetAnalysisRequest()
                request.sessionID = id
                _ = try await client.getAnalysis(request, options: options)
            case "GetNotes":
                var request = GetNotesRequest()
                request.sessionID = id
                _ = try await client.getNotes(request, options: options)
            case "UpdateNotes":
                var request = UpdateNotesRequest()
                request.sessionID = id
                var note = UpdateNotesRequest.NoteUpdate()
                note.content = "x"
                request.notes = [note]
                _ = try await client.updateNotes(request, options: options)
            case "ConfirmSession":
                var request = ConfirmSessionRequest()
                request.sessionID = id
                request.rating = 5
                _ = try await client.confirmSession(request, options: options)
            case "SubmitFeedback":
                var request = SubmitFeedbackRequest()
                request.sessionID = id
                request.clarity = 4
                request.difficulty = 3
                request.technicalIssues = false
                _ = try await client.submitFeedback(request, options: options)
            default:
                throw TestFailure("no gRPC call for \(method)")
            }
        }
    }

    func rest(_ method: String, _ path: String, token: String, body: [UInt8]? = nil, headOnly: Bool = false)
        async throws -> HTTPTestClient.Response
    {
        var headers = [("authorization", "Bearer \(token)")]
        if body != nil { headers.append(("content-type", "application/json")) }
        return try await HTTPTestClient.request(port: self.server.port, method, path, headers: headers, body: body, headOnly: headOnly)
    }

    func restStatus(_ method: String, session id: String, token: String) async throws -> Int {
        let path = "/api/sessions/\(id)"
        let route: (String, String, String?) =
            switch method {
            case "GetSession": ("GET", path, nil)
            case "WatchSession": ("GET", path + "/events", nil)
            case "PauseSession": ("POST", path + "/pause", nil)
            case "ResumeSession": ("POST", path + "/resume", nil)
            case "CompleteSession": ("POST", path + "/complete", nil)
            case "AnalyzeSession": ("POST", path + "/analyze", nil)
            case "GetAnalysis": ("GET", path + "/analysis", nil)
            case "GetNotes": ("GET", path + "/notes", nil)
            case "UpdateNotes": ("PATCH", path + "/notes", #"{"notes": [{"content": "x"}]}"#)
            case "ConfirmSession": ("POST", path + "/confirm", #"{"rating": 5}"#)
            case "SubmitFeedback": ("POST", path + "/feedback", #"{"clarity": 4, "difficulty": 3, "technicalIssues": false}"#)
            default: throw TestFailure("no REST route for \(method)")
            }
        let response = try await self.rest(
            route.0, route.1, token: token, body: route.2.map { Array($0.utf8) }, headOnly: method == "WatchSession")
        return response.status
    }
}
