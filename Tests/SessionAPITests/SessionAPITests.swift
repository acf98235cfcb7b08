import ProtoWire
import RPCCore
import SessionAPI
import Testing

@Suite("the generated Sessions API")
struct SessionAPITests {
    /// The routes of ../shared/sessions-api.txt plus ours, with the statuses the gateway answers.
    static let expectedRoutes: [(String, String, String, Int)] = [
        ("POST", "/api/sessions", "CreateSession", 201),
        ("GET", "/api/sessions/{session_id}", "GetSession", 200),
        ("GET", "/api/sessions", "ListSessions", 200),
        ("POST", "/api/sessions/{session_id}/pause", "PauseSession", 200),
        ("POST", "/api/sessions/{session_id}/resume", "ResumeSession", 200),
        ("POST", "/api/sessions/{session_id}/complete", "CompleteSession", 200),
        ("POST", "/api/sessions/{session_id}/analyze", "AnalyzeSession", 202),
        ("GET", "/api/sessions/{session_id}/analysis", "GetAnalysis", 200),
        ("GET", "/api/sessions/{session_id}/notes", "GetNotes", 200),
        ("PATCH", "/api/sessions/{session_id}/notes", "UpdateNotes", 200),
        ("POST", "/api/sessions/{session_id}/confirm", "ConfirmSession", 200),
        ("POST", "/api/sessions/{session_id}/feedback", "SubmitFeedback", 200),
        ("GET", "/api/sessions/{session_id}/events", "WatchSession", 200),
    ]

    @Test("the HTTP route table holds every documented route, from the schema's options")
    func routeTable() {
        let routes = SessionServiceHTTPRoutes.all
        #expect(routes.count == Self.expectedRoutes.count)
        for (method, path, rpc, status) in Self.expectedRoutes {
            let route = routes.first { $0.method == method && $0.pathTemplate == path }
            #expect(route?.rpc.name == rpc, "\(method) \(path)")
            #expect(route?.successStatus == status, "\(method) \(path)")
            #expect(route?.body == (method == "GET" ? "" : "*"), "\(method) \(path)")
        }
    }

    @Test("method paths and kinds follow gRPC's /package.Service/Method")
    func methodTable() {
        #expect(SessionServiceMethods.getSession.path == "/sessions.v1.SessionService/GetSession")
        #expect(SessionServiceMethods.watchSession.kind == .serverStreaming)
        #expect(SessionServiceMethods.all.count == 14)
        #expect(Set(SessionServiceMethods.all.map(\.path)).count == 14)
    }

    @Test("JSON names come from the schema, including explicit json_name")
    func jsonNames() {
        #expect(Session.jsonFields.map(\.jsonName).prefix(9) == [
            "sessionId", "jobId", "testerId", "variant", "status", "createdAt", "startedAt", "completedAt",
            "durationSeconds",
        ])
        #expect(ListSessionsRequest.jsonFields.map(\.jsonName) == ["jobId", "testerId", "status", "limit", "cursor"])
        #expect(ListSessionsResponse.jsonFields.map(\.jsonName) == ["sessions", "nextCursor", "limit"])
    }

    @Test("the peers' request bytes decode as documented (GetSessionRequest{session_id: sess_00042})")
    func peerRequestBytes() throws {
        let bytes: [UInt8] = [0x0A, 0x0A] + Array("sess_00042".utf8)
        let request = try GetSessionRequest(serializedBytes: bytes)
        #expect(request.sessionID == "sess_00042")
        #expect(request.serializedBytes() == bytes)
    }

    @Test("proto3 optional fields tell absent from zero")
    func optionalPresence() throws {
        var request = ConfirmSessionRequest()
        request.sessionID = "s"
        #expect(try ConfirmSessionRequest(serializedBytes: request.serializedBytes()).rating == nil)
        request.rating = 0
        #expect(try ConfirmSessionRequest(serializedBytes: request.serializedBytes()).rating == 0)
    }

    @Test("an enum value this build does not know survives a round trip")
    func unknownEnumValue() throws {
        var session = Session()
        session.status = SessionStatus(protoValue: 42)
        let decoded = try Session(serializedBytes: session.serializedBytes())
        #expect(decoded.status == .unrecognized(42))
        #expect(decoded.status.protoName == nil)
        #expect(SessionStatus.analyzed.protoName == "SESSION_STATUS_ANALYZED")
    }
}
