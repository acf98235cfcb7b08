import Foundation
import ServiceErrors
import TestSupport
import Testing

/// The REST gateway's error classes and their documented order (route, authentication, body
/// syntax, visibility, role, field values, state), one table row each, against the whole server
/// in process with a plain HTTP/1.1 client: status, code name, the envelope, every offending
/// field, and the headers a client needs (Allow, WWW-Authenticate).
@Suite("REST gateway errors, from one table")
struct GatewayErrorTests {
    enum Caller: Sendable { case nobody, tester, otherTester, researcher, otherOrg, malformed }

    /// Sessions a row acts on: `own` is the tester's and active; `other` is another tester's of
    /// the same org, also active.
    struct Fixture: Sendable {
        var own: String
        var other: String
        var tokens: [String: String]
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var what: String
        var method: String
        var path: @Sendable (Fixture) -> String
        var caller: Caller
        var body: String? = nil
        var contentType: String? = nil
        var status: Int
        var code: String
        /// The fields `details` must name, exactly (nil: not checked).
        var fields: [String]? = nil
        /// A header that must be present, and words its value must contain.
        var header: (name: String, contains: [String])? = nil

        var testDescription: String { self.what }
    }

    static let rows: [Row] = [
        Row(what: "unknown route", method: "GET", path: { _ in "/api/nothing-here" }, caller: .tester, status: 404, code: "NOT_FOUND"),
        Row(what: "wrong method on a session", method: "DELETE", path: { "/api/sessions/\($0.own)" }, caller: .tester,
            status: 405, code: "UNIMPLEMENTED", header: ("allow", ["GET"])),
        Row(what: "wrong method on the collection", method: "PUT", path: { _ in "/api/sessions" }, caller: .tester,
            status: 405, code: "UNIMPLEMENTED", header: ("allow", ["GET", "POST"])),
        Row(what: "a body that is not JSON", method: "POST", path: { _ in "/api/sessions" }, caller: .tester,
            body: "jobId=1", contentType: "text/plain", status: 415, code: "UNSUPPORTED_MEDIA_TYPE"),
        Row(what: "a body over 1 MiB", method: "POST", path: { _ in "/api/sessions" }, caller: .tester,
            body: "{" + String(repeating: " ", count: 1 << 20) + "}", status: 413, code: "RESOURCE_EXHAUSTED"),
        Row(what: "malformed JSON", method: "POST", path: { _ in "/api/sessions" }, caller: .tester,
            body: #"{"jobId": "j","#, status: 400, code: "INVALID_ARGUMENT", fields: []),
        Row(what: "a JSON array body", method: "POST", path: { _ in "/api/sessions" }, caller: .tester,
            body: #"["not", "an", "object"]"#, status: 400, code: "INVALID_ARGUMENT"),
        Row(what: "wrong types and an unknown field, every one named", method: "POST", path: { _ in "/api/sessions" },
            caller: .tester, body: #"{"jobId": 5, "testerId": true, "variant": ["A"], "colour": "red"}"#,
            status: 400, code: "INVALID_ARGUMENT", fields: ["colour", "jobId", "testerId", "variant"]),
        Row(what: "an out-of-range number", method: "POST", path: { "/api/sessions/\($0.other)/confirm" }, caller: .researcher,
            body: #"{"rating": 99999999999}"#, status: 400, code: "INVALID_ARGUMENT", fields: ["rating"]),
        Row(what: "a fraction for an integer", method: "POST", path: { "/api/sessions/\($0.other)/confirm" }, caller: .researcher,
            body: #"{"rating": 4.5}"#, status: 400, code: "INVALID_ARGUMENT", fields: ["rating"]),
        Row(what: "missing required fields, every one named", method: "POST", path: { "/api/sessions/\($0.own)/feedback" },
            caller: .tester, body: #"{"comment": "x"}"#, status: 400, code: "INVALID_ARGUMENT",
            fields: ["clarity", "difficulty", "technicalIssues"]),
        Row(what: "an ID with a space", method: "POST", path: { _ in "/api/sessions" }, caller: .researcher,
            body: #"{"jobId": "j b", "testerId": "t"}"#, status: 400, code: "INVALID_ARGUMENT", fields: ["jobId"]),
        Row(what: "no token", method: "GET", path: { "/api/sessions/\($0.own)" }, caller: .nobody,
            status: 401, code: "UNAUTHENTICATED", header: ("www-authenticate", ["Bearer"])),
        Row(what: "a malformed token", method: "GET", path: { "/api/sessions/\($0.own)" }, caller: .malformed,
            status: 401, code: "UNAUTHENTICATED", header: ("www-authenticate", ["Bearer"])),
        Row(what: "a tester may not analyze", method: "POST", path: { "/api/sessions/\($0.own)/analyze" }, caller: .tester,
            status: 403, code: "PERMISSION_DENIED"),
        Row(what: "another tester's session is not found", method: "GET", path: { "/api/sessions/\($0.own)" },
            caller: .otherTester, status: 404, code: "NOT_FOUND"),
        Row(what: "another org's session is not found", method: "GET", path: { "/api/sessions/\($0.own)" }, caller: .otherOrg,
            status: 404, code: "NOT_FOUND"),
        Row(what: "confirming a session that is not analyzed", method: "POST", path: { "/api/sessions/\($0.own)/confirm" },
            caller: .researcher, body: #"{"rating": 5}"#, status: 409, code: "FAILED_PRECONDITION"),
        Row(what: "a bad cursor", method: "GET", path: { _ in "/api/sessions?cursor=bm90LWEtY3Vyc29y" }, caller: .researcher,
            status: 400, code: "INVALID_ARGUMENT", fields: ["cursor"]),
        Row(what: "limit over 200", method: "GET", path: { _ in "/api/sessions?limit=201" }, caller: .researcher,
            status: 400, code: "INVALID_ARGUMENT", fields: ["limit"]),
        Row(what: "an unknown status and an unknown parameter", method: "GET", path: { _ in "/api/sessions?status=finished&jobs=1" },
            caller: .researcher, status: 400, code: "INVALID_ARGUMENT", fields: ["jobs", "status"]),
        // The documented order of checks.
        Row(what: "order: route before authentication", method: "POST", path: { _ in "/api/nothing/confirm" }, caller: .nobody,
            body: "{", status: 404, code: "NOT_FOUND"),
        Row(what: "order: authentication before body syntax", method: "POST", path: { "/api/sessions/\($0.own)/confirm" },
            caller: .nobody, body: "{", status: 401, code: "UNAUTHENTICATED"),
        Row(what: "order: body syntax before visibility", method: "POST", path: { "/api/sessions/\($0.own)/confirm" },
            caller: .otherOrg, body: "{", status: 400, code: "INVALID_ARGUMENT"),
        Row(what: "order: visibility before field values", method: "POST", path: { "/api/sessions/\($0.own)/confirm" },
            caller: .otherOrg, body: #"{"rating": 9}"#, status: 404, code: "NOT_FOUND"),
        Row(what: "order: role before field values", method: "POST", path: { "/api/sessions/\($0.own)/confirm" },
            caller: .tester, body: #"{"rating": 9}"#, status: 403, code: "PERMISSION_DENIED"),
        Row(what: "order: field values before state", method: "POST", path: { "/api/sessions/\($0.own)/confirm" },
            caller: .researcher, body: #"{"rating": 9}"#, status: 400, code: "INVALID_ARGUMENT", fields: ["rating"]),
    ]

    /// The gateway in the server's own process, or as its own process forwarding over gRPC (`--upstream`).
    enum Gateway: String, Sendable, CaseIterable { case inProcess, upstream }

    /// A REST gateway (`--upstream`) in front of the shared server, checking tokens with its secret.
    static let upstreamGateway = Task {
        let backend = try await World.shared().server
        let secret = backend.dataDirectory.appendingPathComponent("jwt-secret").path
        return try await RunningServer.start { configuration in
            configuration.upstream = ("127.0.0.1", backend.port)
            configuration.jwtSecretFile = secret
        }
    }

    @Test("each error class answers its status, code, envelope and fields", arguments: rows, Gateway.allCases)
    func errorClass(row: Row, gateway: Gateway) async throws {
        let world = try await World.shared()
        let fixture = try await Self.fixture(world)
        let port = gateway == .inProcess ? world.server.port : try await Self.upstreamGateway.value.port
        var headers: [(String, String)] = []
        if let token = fixture.tokens["\(row.caller)"] { headers.append(("authorization", "Bearer \(token)")) }
        if row.body != nil { headers.append(("content-type", row.contentType ?? "application/json")) }
        let response = try await HTTPTestClient.request(
            port: port, row.method, row.path(fixture), headers: headers, body: row.body.map { Array($0.utf8) })
        let envelope = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let error = envelope?["error"] as? [String: Any]
        #expect(response.status == row.status && error?["code"] as? String == row.code,
                "\(response.status) \(error?["code"] ?? "-"): \(error?["message"] ?? String(decoding: response.body.prefix(200), as: UTF8.self))")
        #expect(envelope?["success"] as? Bool == false && envelope?["data"] is NSNull && envelope?["metadata"] is NSNull
                && error?["message"] is String && error?["details"] is [Any], "the error envelope")
        #expect(response.header("content-type") == "application/json; charset=utf-8")
        if let fields = row.fields {
            let named = ((error?["details"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }.sorted()
            #expect(named == fields, "details name \(named)")
        }
        if let header = row.header {
            let value = response.header(header.name) ?? ""
            #expect(header.contains.allSatisfy(value.contains), "\(header.name): \(value)")
        }
    }

    @Test("a field out of its documented range is described as documented")
    func fieldDescription() async throws {
        let world = try await World.shared()
        let fixture = try await Self.fixture(world)
        let response = try await HTTPTestClient.request(
            port: world.server.port, "POST", "/api/sessions/\(fixture.own)/confirm",
            headers: [("authorization", "Bearer \(fixture.tokens["researcher"]!)"), ("content-type", "application/json")],
            body: Array(#"{"rating": 7}"#.utf8))
        let envelope = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let details = (envelope?["error"] as? [String: Any])?["details"] as? [[String: String]]
        #expect(details == [["field": "rating", "description": "must be between 1 and 5"]])
    }

    /// Two active sessions of two testers in org acme, and a token for each caller.
    static func fixture(_ world: World) async throws -> Fixture {
        let tester = "gw-\(UUID().uuidString.prefix(8))"
        let otherTester = "gw-\(UUID().uuidString.prefix(8))"
        let token = { (subject: String, role: String, org: String) in world.server.token(subject: subject, role: role, org: org) }
        return Fixture(
            own: try await world.prepare(org: "acme", tester: tester, state: "active"),
            other: try await world.prepare(org: "acme", tester: otherTester, state: "active"),
            tokens: [
                "tester": token(tester, "tester", "acme"), "otherTester": token(otherTester, "tester", "acme"),
                "researcher": token("gw-researcher", "researcher", "acme"), "otherOrg": token("gw-other", "researcher", "globex"),
                "malformed": "not.a.jwt",
            ]
        )
    }
}
