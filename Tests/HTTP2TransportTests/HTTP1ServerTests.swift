import HTTPMessages
import HTTP2Transport
import Logging
import NIOCore
import NIOPosix
import RPCCore
import NIOConcurrencyHelpers
import Testing

@Suite("HTTP/1.1 on the shared port")
struct HTTP1ServerTests {
    static func withServer(
        maxBody: Int = 1 << 20,
        requestTimeout: Duration = .seconds(30),
        service: any HTTPService = HTTPHealthService(),
        _ body: (TransportServer, any EventLoopGroup) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = TransportConfiguration(host: "127.0.0.1", port: 0)
        configuration.maxHTTPBodySize = maxBody
        configuration.http1RequestTimeout = requestTimeout
        // Not what these tests are about: a CI run once stalled every test for 10 s between
        // connecting and sending, past the 5 s default, and the server rightly closed.
        configuration.handshakeTimeout = .seconds(60)
        let server = try await TransportServer.start(
            configuration: configuration,
            router: RPCRouter(),
            httpService: service,
            group: group,
            logger: Logger(label: "test")
        )
        do {
            try await body(server, group)
        } catch {
            await server.close()
            try await group.shutdownGracefully()
            throw error
        }
        await server.close()
        try await group.shutdownGracefully()
    }

    @Test("keep-alive with pipelined requests answers each in order")
    func pipelining() async throws {
        try await Self.withServer { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send(
                "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            let bytes = try await connection.waitFor { $0.occurrences(of: "HTTP/1.1 ") >= 3 }
            let statuses = bytes.statuses
            #expect(statuses == ["200", "404", "200"])
            #expect(bytes.text.contains(#""code":"NOT_FOUND""#))
            #expect(!connection.isClosed)
            await connection.close()
        }
    }

    @Test("a body over the limit gets 413 RESOURCE_EXHAUSTED and the connection closes")
    func bodyTooLarge() async throws {
        try await Self.withServer(maxBody: 16) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n" + String(repeating: "a", count: 40))
            // Waits for the close (generously: the whole suite runs in parallel on two cores).
            let bytes = try await connection.waitFor(timeout: .seconds(20)) { _ in false }
            #expect(bytes.text.hasPrefix("HTTP/1.1 413"))
            #expect(bytes.text.contains("RESOURCE_EXHAUSTED"))
            #expect(connection.isClosed)
        }
    }

    @Test("a malformed request line gets 400 and the server keeps serving others")
    func malformedRequest() async throws {
        try await Self.withServer { server, group in
            let bad = try await TestConnection.connect(port: server.localPort, group: group)
            try await bad.send("GARBAGE\r\n\r\n")
            let bytes = try await bad.waitFor { _ in false }
            #expect(bytes.text.hasPrefix("HTTP/1.1 400"))
            let good = try await TestConnection.connect(port: server.localPort, group: group)
            try await good.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let reply = try await good.waitFor { $0.text.contains("ok") }
            #expect(reply.text.hasPrefix("HTTP/1.1 200"))
            await good.close()
        }
    }

    @Test("a request its head refuses is answered without its body ever reaching the service")
    func admitWhenRefused() async throws {
        let service = GuardedService()
        try await Self.withServer(service: service) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send(
                "POST /guarded HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                    + "POST /open HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nworld"
            )
            let bytes = try await connection.waitFor { $0.occurrences(of: "HTTP/1.1 ") >= 2 }
            let statuses = bytes.statuses
            #expect(statuses == ["401", "200"])
            #expect(bytes.text.hasSuffix("world"))
            #expect(service.handled.withLockedValue { $0 } == ["/open"])
            #expect(!connection.isClosed)
            await connection.close()
        }
    }
}

extension HTTP1ServerTests {
    @Test("Expect: 100-continue gets an interim 100, then the body is read and answered")
    func expectContinueWhenAdmitted() async throws {
        try await Self.withServer(service: GuardedService()) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send("POST /open HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            let interim = try await connection.waitFor(timeout: .seconds(20)) { $0.text.contains("\r\n\r\n") }
            #expect(interim.text.hasPrefix("HTTP/1.1 100 Continue\r\n"), "\(interim.text)")
            try await connection.send("hello")
            let reply = try await connection.waitFor { $0.text.hasSuffix("hello") }
            #expect(reply.text.contains("HTTP/1.1 200"), "\(reply.text)")
            await connection.close()
        }
    }

    @Test("Expect: 100-continue on a refused request or an oversized body is answered at once, without the body")
    func expectContinueWhenRefused() async throws {
        try await Self.withServer(maxBody: 1_000, service: GuardedService()) { server, group in
            for (request, status) in [
                ("POST /guarded HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", "401"),
                ("POST /open HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n", "413"),
            ] {
                let connection = try await TestConnection.connect(port: server.localPort, group: group)
                try await connection.send(request)
                let reply = try await connection.waitFor(timeout: .seconds(20)) { _ in false }
                #expect(reply.text.hasPrefix("HTTP/1.1 \(status)"), "\(reply.text)")
                #expect(!reply.text.contains("100 Continue"))
                #expect(connection.isClosed)
            }
        }
    }

    @Test("a connection's pipelined backlog is read 16 KiB per turn of the event loop, so others take turns")
    func pipelinedBacklogWhenOthersWait() async throws {
        let service = TurnCountingService()
        // The clients on a loop of their own: the server's loop turns only for the server.
        let clients = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let request = "GET /p HTTP/1.1\r\nHost: x\r\n\r\n"
        let count = 16_000  // 448,000 bytes in one write
        try await Self.withServer(service: service) { server, _ in
            let busy = try await TestConnection.connect(port: server.localPort, group: clients)
            let sending = Task { try await busy.send(String(repeating: request, count: count)) }
            let other = try await TestConnection.connect(port: server.localPort, group: clients)
            try await other.send(request)
            let answer = try await other.waitFor(timeout: .seconds(30)) { $0.occurrences(of: "HTTP/1.1 ") >= 1 }
            #expect(answer.statuses == ["204"])
            try await sending.value
            let deadline = ContinuousClock.now + .seconds(60)
            while service.handled < count + 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(service.handled == count + 1)
            #expect(!busy.isClosed)
            // One read of at most `maxReadSize` bytes per connection and turn: its requests, and
            // the end of one that the read before it cut.
            let mostPerTurn = TransportServer.maxReadSize / request.utf8.count + 1
            let perTurn = service.perTurn.values.flatMap { $0.values }
            #expect(perTurn.max() ?? 0 <= mostPerTurn, "requests of one connection per turn: \(perTurn.sorted().suffix(5))")
            await busy.close()
            await other.close()
        }
        try await clients.shutdownGracefully()
    }
}

/// Refuses `/guarded` from its head; echoes the body of everything else.
final class GuardedService: HTTPService {
    let handled = NIOLockedValueBox<[String]>([])

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        self.handled.withLockedValue { $0.append(String(request.path)) }
        return HTTPResponse(status: 200, body: request.body)
    }

    func admit(_ request: HTTPRequest) -> HTTPResponse? {
        request.path == "/guarded" ? HTTPResponse(status: 401) : nil
    }
}

/// Answers every request with 204 at once, and counts how many of each connection's requests it
/// answered in each turn of the server's event loop: the first request of a turn schedules a
/// task, which runs once the turn's reads have all been handled, and ends the turn.
final class TurnCountingService: HTTPService {
    private struct State {
        /// By connection (`HTTPRequest.peer`), then by turn: requests answered.
        var perTurn: [String: [Int: Int]] = [:]
        var turn = 0
        var turnEnding = false
    }
    private let state = NIOLockedValueBox(State())

    var perTurn: [String: [Int: Int]] { self.state.withLockedValue { $0.perTurn } }
    var handled: Int { self.perTurn.values.reduce(0) { $0 + $1.values.reduce(0, +) } }

    func respond(to request: HTTPRequest) async -> HTTPResponse { HTTPResponse(status: 204) }

    func handle(_ request: HTTPRequest) -> HTTPOutcome {
        let first = self.state.withLockedValue { state in
            state.perTurn[request.peer ?? "", default: [:]][state.turn, default: 0] += 1
            defer { state.turnEnding = true }
            return !state.turnEnding
        }
        if first, let loop = MultiThreadedEventLoopGroup.currentEventLoop {
            loop.execute {
                self.state.withLockedValue { state in
                    state.turn += 1
                    state.turnEnding = false
                }
            }
        }
        return .response(HTTPResponse(status: 204))
    }
}
