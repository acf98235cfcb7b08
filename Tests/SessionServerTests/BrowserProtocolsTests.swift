import Auth
import Foundation
import HTTP2Transport
import NIOConcurrencyHelpers
import ProtoJSON
import RPCCore
import SessionAPI
import ServiceErrors
import TestSupport
import Testing


/// gRPC-Web and Connect against the whole server in process, beyond what the authorization
/// matrix and the error table check: compression both ways, deadlines, GET, CORS, request IDs,
/// metrics, and the methods these protocols cannot carry.
@Suite("gRPC-Web and Connect, end to end")
struct BrowserProtocolsTests {
    static let service = "/sessions.v1.SessionService/"
    static let origin = "https://app.example.com"

    private static func create(_ server: RunningServer, token: String, job: String) async throws -> String {
        let body = Array(#"{"jobId": "\#(job)", "testerId": "tester-1"}"#.utf8)
        let created = try await HTTPTestClient.request(
            port: server.port, "POST", Self.service + "CreateSession",
            headers: [("authorization", "Bearer \(token)"), ("content-type", "application/json")], body: body)
        let object = try JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any]
        return try #require(object?["sessionId"] as? String, "\(created.status) \(String(decoding: created.body, as: UTF8.self))")
    }

    @Test("a gzipped Connect request is read, and a large reply is gzipped when the client accepts it")
    func gzipWhenBothSidesAccept() async throws {
        try await withRunningServer { server in
            let token = server.token(subject: "svc", role: "service", org: "acme")
            for index in 0..<12 { _ = try await Self.create(server, token: token, job: "gzip-\(index % 1)-\(index)") }
            let request = try Self.gzip(Array(#"{"limit": 50}"#.utf8))
            let reply = try await HTTPTestClient.request(
                port: server.port, "POST", Self.service + "ListSessions",
                headers: [("authorization", "Bearer \(token)"), ("content-type", "application/json"),
                    ("content-encoding", "gzip"), ("accept-encoding", "gzip")],
                body: request)
            #expect(reply.status == 200 && reply.header("content-encoding") == "gzip")
            let json = try Self.gunzip(reply.body)
            let object = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any]
            #expect((object?["sessions"] as? [Any])?.count == 12, "\(String(decoding: json, as: UTF8.self).prefix(200))")
            // Without accept-encoding: plain.
            let plain = try await HTTPTestClient.request(
                port: server.port, "POST", Self.service + "ListSessions",
                headers: [("authorization", "Bearer \(token)"), ("content-type", "application/json")], body: Array("{}".utf8))
            #expect(plain.status == 200 && plain.header("content-encoding") == nil)
            // An unsupported request encoding is named.
            let brotli = try await HTTPTestClient.request(
                port: server.port, "POST", Self.service + "ListSessions",
                headers: [("authorization", "Bearer \(token)"), ("content-type", "application/json"), ("content-encoding", "br")],
                body: Array("{}".utf8))
            #expect(brotli.status == 501 && String(decoding: brotli.body, as: UTF8.self).contains("supported: identity, gzip"))
        }
    }

    @Test("connect-timeout-ms and grpc-timeout end a watch with DEADLINE_EXCEEDED in its status")
    func watchWhenDeadlinePasses() async throws {
        try await withRunningServer { server in
            let token = server.token(subject: "svc", role: "service", org: "acme")
            let id = try await Self.create(server, token: token, job: "deadline")
            let json = Array(#"{"sessionId": "\#(id)"}"#.utf8)
            let started = ContinuousClock.now
            let connect = try await HTTPTestClient.request(
                port: server.port, "POST", Self.service + "WatchSession",
                headers: [("authorization", "Bearer \(token)"), ("content-type", "application/connect+json"),
                    ("connect-timeout-ms", "300")],
                body: Self.envelope(json))
            // The deadline, not the client, ended the stream (which never ends on its own); the
            // bound is loose: the suite shares two cores with the rest of the test run.
            #expect(ContinuousClock.now - started < .seconds(30))
            let frames = Self.envelopes(connect.body)
            #expect(frames.first?.flags == 0, "the snapshot first")
            #expect(frames.last?.flags == 2 && String(decoding: frames.last!.payload, as: UTF8.self).contains(#""code":"deadline_exceeded""#))

            var request = WatchSessionRequest()
            request.sessionID = id
            let web = try await HTTPTestClient.request(
                port: server.port, "POST", Self.service + "WatchSession",
                headers: [("authorization", "Bearer \(token)"), ("content-type", "application/grpc-web+proto"), ("grpc-timeout", "300m")],
                body: Self.envelope(request.serializedBytes()))
            let trailer = try #require(Self.envelopes(web.body).last)
            #expect(trailer.flags == 0x80 && String(decoding: trailer.payload, as: UTF8.self).hasPrefix("grpc-status:4\r\n"))
            let malformed = try await HTTPTestClient.request(
                port: server.port, "POST", Self.service + "GetSession",
                headers: [("authorization", "Bearer \(token)"), ("content-type", "application/json"), ("connect-timeout-ms", "soon")],
                body: Array("{}".utf8))
            #expect(malformed.status == 400 && String(decoding: malformed.body, as: UTF8.self).contains("connect-timeout-ms"))
        }
    }

    @Test("GET serves side-effect-free methods only; other HTTP methods and media types are refused")
    func getWhenMethodHasSideEffects() async throws {
        try await withRunningServer { server in
            let token = server.token(subject: "svc", role: "service", org: "acme")
            let id = try await Self.create(server, token: token, job: "get")
            let auth = [("authorization", "Bearer \(token)")]
            var request = GetSessionRequest()
            request.sessionID = id
            let message = Data(request.serializedBytes()).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            let got = try await HTTPTestClient.request(
                port: server.port, "GET", Self.service + "GetSession?encoding=proto&base64=1&message=\(message)", headers: auth)
            #expect(got.status == 200 && got.header("content-type") == "application/proto")
            #expect(try Session(decodingReply: got.body).sessionID == id)
            let create = try await HTTPTestClient.request(
                port: server.port, "GET", Self.service + "CreateSession?encoding=json&message=%7B%7D", headers: auth)
            #expect(create.status == 405 && create.header("allow") == "POST, OPTIONS")
            let put = try await HTTPTestClient.request(port: server.port, "PUT", Self.service + "GetSession", headers: auth, body: [])
            #expect(put.status == 405 && put.header("allow") == "GET, POST, OPTIONS")
            let text = try await HTTPTestClient.request(
                port: server.port, "POST", Self.service + "GetSession", headers: auth + [("content-type", "text/plain")], body: [1])
            #expect(text.status == 415 && text.header("accept-post")?.contains("application/json") == true)
            let noQuery = try await HTTPTestClient.request(port: server.port, "GET", Self.service + "GetSession", headers: auth)
            #expect(noQuery.status == 400 && String(decoding: noQuery.body, as: UTF8.self).contains("message: is required"))
            // Authentication comes first: without a token the same request learns only that.
            let anonymous = try await HTTPTestClient.request(port: server.port, "GET", Self.service + "GetSession?encoding=xml")
            #expect(anonymous.status == 401 && String(decoding: anonymous.body, as: UTF8.self).contains("unauthenticated"))
        }
    }

    @Test("CORS: preflights and replies for allowed origins expose the protocols' headers and the call's metadata")
    func preflightWhenOriginIsAllowed() async throws {
        try await withRunningServer({ $0.corsOrigins = [Self.origin] }) { server in
            let preflight = try await HTTPTestClient.request(
                port: server.port, "OPTIONS", Self.service + "GetSession",
                headers: [("origin", Self.origin), ("access-control-request-method", "POST"),
                    ("access-control-request-headers", "authorization, content-type, connect-protocol-version, x-grpc-web")])
            #expect(preflight.status == 204 && preflight.header("access-control-allow-origin") == Self.origin)
            let allowed = preflight.header("access-control-allow-headers") ?? ""
            for header in ["authorization", "content-type", "connect-protocol-version", "connect-timeout-ms", "x-grpc-web",
                "x-user-agent", "grpc-timeout", "idempotency-key"]
            {
                #expect(allowed.contains(header), "allows \(header)")
            }
            #expect(preflight.header("access-control-allow-methods") == "GET, POST, OPTIONS")
            let stranger = try await HTTPTestClient.request(
                port: server.port, "OPTIONS", Self.service + "GetSession",
                headers: [("origin", "https://evil.example"), ("access-control-request-method", "POST")])
            #expect(stranger.header("access-control-allow-origin") == nil)

            let token = server.token(subject: "svc", role: "service", org: "acme")
            let reply = try await HTTPTestClient.request(
                port: server.port, "POST", Self.service + "GetSession",
                headers: [("origin", Self.origin), ("authorization", "Bearer \(token)"), ("content-type", "application/json"),
                    ("x-request-id", "trace-42")],
                body: Array(#"{"sessionId": "sess_01AAAAAAAAAAAAAAAAAAAAAAAA"}"#.utf8))
            #expect(reply.status == 404 && reply.header("x-request-id") == "trace-42")
            let exposed = reply.header("access-control-expose-headers") ?? ""
            for header in ["grpc-status", "grpc-message", "connect-content-encoding", "x-request-id", "ratelimit-remaining"] {
                #expect(exposed.contains(header), "exposes \(header): \(exposed)")
            }
        }
    }

    @Test("client-streaming methods are refused with a clear UNIMPLEMENTED; unknown methods too")
    func callWhenMethodCannotBeCarried() async throws {
        try await withRunningServer { server in
            let reflection = try await HTTPTestClient.request(
                port: server.port, "POST", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                headers: [("content-type", "application/connect+proto")], body: Self.envelope([]))
            let end = try #require(Self.envelopes(reflection.body).last)
            #expect(end.flags == 2 && String(decoding: end.payload, as: UTF8.self).contains("call it with gRPC"))
            let unknown = try await HTTPTestClient.request(
                port: server.port, "POST", Self.service + "Nope", headers: [("content-type", "application/json")], body: Array("{}".utf8))
            #expect(unknown.status == 501 && String(decoding: unknown.body, as: UTF8.self).contains("unknown method"))
            // Health over Connect (proto codec), as load balancers with Connect health checks ask it.
            let health = try await HTTPTestClient.request(
                port: server.port, "POST", "/grpc.health.v1.Health/Check", headers: [("content-type", "application/proto")], body: [])
            #expect(health.status == 200 && health.body == [0x08, 0x01], "SERVING")
        }
    }

    @Test("Connect and gRPC-Web calls are counted in the RPC metrics like gRPC calls (the sessiond process)")
    func metricsWhenCalledOverBrowserProtocols() async throws {
        let data = try PythonScript.temporaryDirectory()
        let server = try await ServerProcess("sessiond", ["serve", "--port", "0", "--data-dir", data.path])
        let port = try #require(server.port)
        let metric = #"rpc_server_handled_total{method="/sessions.v1.SessionService/GetSession",code="NOT_FOUND"}"#
        func count() async throws -> Int {
            let text = String(decoding: try await HTTPTestClient.request(port: port, "GET", "/metrics").body, as: UTF8.self)
            return text.split(separator: "\n").first { $0.hasPrefix(metric) }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        }
        let before = try await count()
        let secret = try String(contentsOf: data.appendingPathComponent("jwt-secret"), encoding: .utf8)
        let token = TokenSigner(secret: Array(secret.trimmingCharacters(in: .whitespacesAndNewlines).utf8))
            .token(subject: "svc", role: "service", org: "acme", issuedAt: Date(), lifetime: 600)
        var request = GetSessionRequest()
        request.sessionID = "sess_01AAAAAAAAAAAAAAAAAAAAAAAA"
        for wire in BrowserTestChannel.Wire.allCases {
            let client = SessionServiceClient(
                channel: BrowserTestChannel(port: port, protocol: wire, codecs: SessionServiceJSONCodecs.all))
            await #expect(throws: ServiceError.self) {
                _ = try await client.getSession(request, options: CallOptions(metadata: Metadata([("authorization", "Bearer \(token)")])))
            }
        }
        let after = try await count()
        await server.stop()
        #expect(after == before + 3, "\(before) → \(after)")
    }

    @Test("a gateway in front of another instance (--upstream) serves gRPC-Web and Connect too, calling it over gRPC")
    func callWhenGatewayForwardsUpstream() async throws {
        let world = try await World.shared()
        let gateway = try await GatewayErrorTests.upstreamGateway.value
        let token = world.server.token(subject: "svc", role: "service", org: "acme")
        let options = CallOptions(metadata: Metadata([("authorization", "Bearer \(token)")]), timeout: .seconds(10))
        for wire in BrowserTestChannel.Wire.allCases {
            let client = SessionServiceClient(
                channel: BrowserTestChannel(port: gateway.port, protocol: wire, codecs: SessionServiceJSONCodecs.all))
            var create = CreateSessionRequest()
            create.jobID = "upstream-\(wire)"
            create.testerID = "tester-upstream"
            let created = try await client.createSession(create, options: options)
            var get = GetSessionRequest()
            get.sessionID = created.sessionID
            #expect(try await world.client.getSession(get, options: World.options(token)).jobID == create.jobID, "\(wire): stored upstream")
            #expect(try await client.getSession(get, options: options).sessionID == created.sessionID, "\(wire)")
            var watch = WatchSessionRequest()
            watch.sessionID = created.sessionID
            let first = NIOLockedValueBox<WatchSessionResponse?>(nil)
            do {
                try await client.watchSession(watch, options: CallOptions(metadata: options.metadata)) { event in
                    first.withLockedValue { $0 = event }
                    throw CancellationError()
                }
            } catch let error as ServiceError where error.cause is CancellationError {}
            #expect(first.withLockedValue { $0 }?.session?.sessionID == created.sessionID, "\(wire): the watch's first event")
            await #expect(throws: ServiceError.self, "\(wire): no token") { _ = try await client.getSession(get, options: CallOptions()) }
        }
    }

    // MARK: Helpers

    static func envelope(_ payload: [UInt8]) -> [UInt8] { BrowserTestChannel.envelope(payload) }

    static func envelopes(_ bytes: [UInt8]) -> [(flags: UInt8, payload: [UInt8])] { BrowserTestChannel.envelopes(bytes).frames }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        try Gzip.compress(bytes)
    }

    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        try Gzip.decompress(bytes, limit: 1 << 24)
    }
}
