import HTTPMessages
import HTTP2Transport
import NIOCore
import NIOConcurrencyHelpers
import Testing

/// The bytes the HTTP/1.1 handler writes itself (`HTTP1Wire`): fields checked before they go out,
/// chunked bodies, and answers kept in request order when a malformed request follows good ones.
@Suite("HTTP/1.1 responses on the wire")
struct HTTP1ResponseTests {
    @Test("a response field carrying CR LF is not sent: 500 INTERNAL instead, nothing injected")
    func fieldWithLineBreakWhenResponding() async throws {
        try await HTTP1ServerTests.withServer(service: ScriptedService()) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send("GET /split HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
            let bytes = try await connection.waitFor { $0.text.hasSuffix("plain") }
            let statuses = bytes.statuses
            #expect(statuses == ["500", "200"], "\(bytes.text)")
            #expect(bytes.text.contains(#""code":"INTERNAL""#))
            #expect(!bytes.text.lowercased().contains("set-cookie"))
            #expect(!bytes.text.contains("x-echo"))
            #expect(!connection.isClosed)
            await connection.close()
        }
    }

    @Test("a malformed request after good ones in the same write: they are answered first, in order, then 400 and close")
    func malformedRequestWhenAnswering() async throws {
        try await HTTP1ServerTests.withServer(service: ScriptedService()) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send(
                "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            // Waits for the close (generously: the whole suite runs in parallel on two cores).
            let bytes = try await connection.waitFor(timeout: .seconds(20)) { _ in false }
            let statuses = bytes.statuses
            #expect(statuses == ["200", "200", "400"], "\(bytes.text)")
            #expect(bytes.text.contains("slow"))
            #expect(bytes.text.contains("connection: close"))
            #expect(connection.isClosed)
        }
    }

    @Test("requests pipelined in one write are handled one at a time, so one response is the most a connection holds")
    func pipelinedRequestsWhenAnswering() async throws {
        let service = CountingService()
        try await HTTP1ServerTests.withServer(service: service) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send(String(repeating: "GET /count HTTP/1.1\r\nHost: x\r\n\r\n", count: 10))
            let bytes = try await connection.waitFor(timeout: .seconds(20)) { $0.occurrences(of: "HTTP/1.1 200") >= 10 }
            #expect(bytes.occurrences(of: "HTTP/1.1 200") == 10)
            #expect(service.counts.withLockedValue { $0 } == (now: 0, most: 1, handled: 10))
            await connection.close()
        }
    }

    @Test("HEAD gets the head without the body, 204 has no content-length, and the next response follows at once")
    func headRequestWhenPipelined() async throws {
        try await HTTP1ServerTests.withServer(service: ScriptedService()) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send(
                "HEAD /plain HTTP/1.1\r\nHost: x\r\n\r\nGET /empty HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            let bytes = try await connection.waitFor { $0.occurrences(of: "HTTP/1.1 ") >= 3 && $0.text.hasSuffix("plain") }
            #expect(
                bytes.text == "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"
                    + "HTTP/1.1 204 No Content\r\n\r\n"
                    + "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nplain"
            )
            #expect(!connection.isClosed)
            await connection.close()
        }
    }

    @Test("an upgrade request is answered and the connection closes: the decoder parses nothing after it")
    func upgradeRequestWhenKeptAlive() async throws {
        try await HTTP1ServerTests.withServer(service: ScriptedService()) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send(
                "GET /plain HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
                    + String(repeating: "x", count: 64 * 1024)
            )
            let bytes = try await connection.waitFor(timeout: .seconds(20)) { _ in false }
            #expect(bytes.text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(bytes.text)")
            #expect(bytes.text.contains("connection: close"))
            #expect(bytes.text.hasSuffix("plain"))
            #expect(connection.isClosed)
        }
    }

    @Test("bytes after a malformed request in the same write do not cut off the answers before its 400")
    func bytesAfterMalformedWhenAnswering() async throws {
        try await HTTP1ServerTests.withServer(service: ScriptedService()) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n" + String(repeating: "y", count: 256 * 1024))
            let bytes = try await connection.waitFor(timeout: .seconds(20)) { _ in false }
            let statuses = bytes.statuses
            #expect(statuses == ["200", "400"], "\(bytes.text)")
            #expect(connection.isClosed)
        }
    }

    @Test("more pipelined requests than may wait: those that fit are answered in order, then the connection closes")
    func pipelinedFloodWhenAnswering() async throws {
        try await HTTP1ServerTests.withServer(service: ScriptedService()) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send(String(repeating: "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n", count: 2_000))
            let bytes = try await connection.waitFor(timeout: .seconds(20)) { _ in false }
            let answered = bytes.occurrences(of: "HTTP/1.1 200")
            #expect(answered > 100 && answered < 2_000, "\(answered) answered")
            #expect(bytes.text.hasSuffix("plain"))
            #expect(connection.isClosed)
        }
    }

    @Test("a response with connection: close to a client that never reads: the connection closes after the request timeout")
    func closingWhenClientNeverReads() async throws {
        try await HTTP1ServerTests.withServer(requestTimeout: .seconds(1), service: ScriptedService()) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group, reading: false)
            // Accepted first, and the clock read before sending: on a machine that stalls, the
            // server may have answered and started its timeout before `send` returns.
            let accepted = ContinuousClock.now + .seconds(15)
            while server.connectionCount == 0, ContinuousClock.now < accepted { try await Task.sleep(for: .milliseconds(10)) }
            let sent = ContinuousClock.now
            try await connection.send("GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let deadline = sent + .seconds(15)
            try await Task.sleep(for: .milliseconds(300))
            // Still open before its timeout (unless this machine stalled past the timeout).
            let open = server.connectionCount == 1
            #expect(open || ContinuousClock.now - sent >= .seconds(1), "closed before the request timeout")
            while server.connectionCount > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(server.connectionCount == 0, "the server still holds the connection")
            await connection.close()
        }
    }

    @Test("an HTTP/1.0 client that asks for keep-alive is told so and kept; one that does not is closed")
    func http10RequestWhenKeptAlive() async throws {
        try await HTTP1ServerTests.withServer(service: ScriptedService()) { server, group in
            let kept = try await TestConnection.connect(port: server.localPort, group: group)
            try await kept.send("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let first = try await kept.waitFor { $0.text.hasSuffix("one") }
            #expect(first.text == "HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\none")
            try await kept.send("GET /two HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let both = try await kept.waitFor { $0.text.hasSuffix("two") }
            #expect(both.text.hasSuffix("connection: keep-alive\r\n\r\ntwo"))
            #expect(!kept.isClosed)
            await kept.close()

            let plain = try await TestConnection.connect(port: server.localPort, group: group)
            try await plain.send("GET /one HTTP/1.0\r\n\r\n")
            let reply = try await plain.waitFor(timeout: .seconds(20)) { _ in false }
            #expect(reply.text == "HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\none")
            #expect(plain.isClosed)
        }
    }

    @Test("a streamed body goes out chunked, an empty write sends no chunk, the last chunk ends it and the connection closes")
    func emptyWriteWhenStreaming() async throws {
        try await HTTP1ServerTests.withServer(service: ScriptedService()) { server, group in
            let (head, body, closed) = try await Self.untilClosed("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", server, group)
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(head.contains("transfer-encoding: chunked"))
            #expect(head.contains("connection: close"))
            #expect(!head.contains("content-length"))
            #expect(body == "1\r\na\r\n2\r\nbc\r\n0\r\n\r\n")
            #expect(closed)
        }
    }

    @Test("a producer that fails mid-stream: the connection closes without the last chunk, so the body reads as cut short")
    func producerFailureWhenStreaming() async throws {
        try await HTTP1ServerTests.withServer(service: ScriptedService()) { server, group in
            let (head, body, closed) = try await Self.untilClosed("GET /failing-stream HTTP/1.1\r\nHost: x\r\n\r\n", server, group)
            #expect(head.contains("transfer-encoding: chunked"))
            #expect(body == "1\r\na\r\n", "no last chunk after a failure")
            #expect(closed)
        }
    }

    @Test("an HTTP/1.0 client gets a streamed body unframed, ended by the close: it cannot read chunked")
    func http10RequestWhenStreaming() async throws {
        try await HTTP1ServerTests.withServer(service: ScriptedService()) { server, group in
            let (head, body, closed) = try await Self.untilClosed("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", server, group)
            #expect(head == "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close")
            #expect(body == "abc")
            #expect(closed)
        }
    }

    @Test("HTTP/1.1 requests without Host or with two, and an HTTP/1.0 one with two: 400 naming the rule, the body discarded, the connection kept")
    func hostFieldWhenMissingOrRepeated() async throws {
        try await HTTP1ServerTests.withServer(service: ScriptedService()) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send(
                "GET /one HTTP/1.1\r\n\r\n"
                    + "GET /two HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"
                    + "POST /three HTTP/1.1\r\nContent-Length: 20\r\n\r\nGET /smuggled HTTP/1"
                    + "GET /four HTTP/1.0\r\nHost: a\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"
                    + "GET /five HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                    + "GET /six HTTP/1.1\r\nHOST: a\r\n\r\n"
            )
            let bytes = try await connection.waitFor { $0.text.hasSuffix("six") }
            #expect(bytes.statuses == ["400", "400", "400", "400", "200", "200"], "\(bytes.text)")
            #expect(bytes.occurrences(of: "exactly one Host field (RFC 9112 §3.2); this one has 0") == 2)
            #expect(bytes.occurrences(of: "exactly one Host field (RFC 9112 §3.2); this one has 2") == 1)
            #expect(bytes.occurrences(of: "at most one Host field (RFC 9112 §3.2); this one has 2") == 1)
            #expect(!bytes.text.contains("smuggled"))
            #expect(!connection.isClosed)
            await connection.close()
        }
    }

    @Test("a HEAD request refused from its head (Expect: 100-continue, body too large): 413 without a body")
    func headRequestWhenRefusedBeforeBody() async throws {
        try await HTTP1ServerTests.withServer(maxBody: 10, service: ScriptedService()) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send("HEAD /plain HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n")
            let bytes = try await connection.waitFor(timeout: .seconds(20)) { _ in false }
            #expect(bytes.text.hasPrefix("HTTP/1.1 413 "), "\(bytes.text)")
            #expect(bytes.text.contains("content-length: "))
            #expect(!bytes.text.contains("content-length: 0\r\n"))
            #expect(bytes.text.hasSuffix("\r\n\r\n"), "no body after the head: \(bytes.text)")
            #expect(connection.isClosed)
        }
    }

    @Test("a service's own framing fields, in any case, give way to the transport's: one content-length, the right one")
    func framingFieldsWhenServiceSetsThem() async throws {
        try await HTTP1ServerTests.withServer(service: ScriptedService()) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send("GET /framing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let bytes = try await connection.waitFor(timeout: .seconds(20)) { _ in false }
            #expect(bytes.text == "HTTP/1.1 200 OK\r\nx-kept: 1\r\ncontent-length: 7\r\nconnection: close\r\n\r\nframing")
        }
    }
}

/// Counts the requests it works on at once (each takes 20 ms).
private final class CountingService: HTTPService {
    let counts = NIOLockedValueBox<(now: Int, most: Int, handled: Int)>((0, 0, 0))

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        self.counts.withLockedValue { $0.now += 1; $0.most = max($0.most, $0.now) }
        try? await Task.sleep(for: .milliseconds(20))
        self.counts.withLockedValue { $0.now -= 1; $0.handled += 1 }
        return HTTPResponse(status: 200)
    }
}

extension HTTP1ResponseTests {
    /// Sends `request` on a new connection and reads until the server closes it (generously: the
    /// whole suite runs in parallel on two cores); returns the response's head without its empty
    /// line, the rest, and whether the connection closed.
    static func untilClosed(
        _ request: String, _ server: TransportServer, _ group: any EventLoopGroup
    ) async throws -> (head: String, body: String, closed: Bool) {
        let connection = try await TestConnection.connect(port: server.localPort, group: group)
        try await connection.send(request)
        let bytes = try await connection.waitFor(timeout: .seconds(20)) { _ in false }
        let parts = bytes.text.split(separator: "\r\n\r\n", maxSplits: 1).map(String.init)
        try #require(parts.count == 2, "no head and body in \(bytes.text)")
        return (parts[0], parts[1], connection.isClosed)
    }
}

/// `/slow` answers after 300 ms, `/big` with 8 MiB, `/empty` with 204, `/split` with a field value holding CR LF, `/stream` with a
/// chunked body written as "a", "", "bc", `/failing-stream` with "a" and then a failure, `/framing` with framing fields of its
/// own; anything else with its path.
private struct ScriptedService: HTTPService {
    func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch request.path {
        case "/slow":
            try? await Task.sleep(for: .milliseconds(300))
            return HTTPResponse(status: 200, body: Array("slow".utf8))
        case "/big":
            return HTTPResponse(status: 200, body: [UInt8](repeating: UInt8(ascii: "b"), count: 8 << 20))
        case "/empty":
            return HTTPResponse(status: 204)
        case "/split":
            return HTTPResponse(status: 200, headers: [("x-echo", "a\r\nset-cookie: evil=1")], body: Array("split".utf8))
        case "/failing-stream":
            return HTTPResponse(status: 200, headers: [], stream: HTTPBodyStream { write in
                try await write(Array("a".utf8))
                throw CancellationError()
            })
        case "/framing":
            let own = [("Content-Length", "999"), ("TRANSFER-ENCODING", "chunked"), ("x-kept", "1"), ("Connection", "keep-alive")]
            return HTTPResponse(status: 200, headers: own, body: Array("framing".utf8))
        case "/stream":
            return HTTPResponse(status: 200, headers: [("content-type", "text/plain")], stream: HTTPBodyStream { write in
                try await write(Array("a".utf8))
                try await write([])
                try await write(Array("bc".utf8))
            })
        default:
            return HTTPResponse(status: 200, body: Array(request.path.dropFirst().utf8))
        }
    }
}
