import HTTPMessages
import HTTP2Transport
import InteropService
import NIOPosix
import RPCCore
import ServiceErrors
import NIOConcurrencyHelpers
import TestSupport
import Testing

@Suite("HTTP/2 protocol handling")
struct HTTP2ProtocolTests {
    @Test("malformed frames, bad headers and prefixes, huge headers, floods and resets (raw h2 client)")
    func rawClientProbes() async throws {
        let output = try await withRunningTransport(routes: InteropTestService().interopRoutes) { server, _ in
            try await PythonScript.run(
                "Tests/HTTP2TransportTests/Protocol/h2_probe.py",
                ["--port", String(server.localPort)]
            )
        }
        print(output.text)
        #expect(output.status == 0, "\(output.text)")
        #expect(output.text.contains("h2 protocol: 34 passed, 0 failed"), "\(output.text)")
    }
}

/// A test service whose handlers report what happened to them.
final class ProbeService: Sendable {
    let cancelled = NIOLockedValueBox(0)
    let started = NIOLockedValueBox(0)
    static let slow = RPCMethod(service: "test.Probe", name: "Slow", kind: .unary)
    static let echo = RPCMethod(service: "test.Probe", name: "Echo", kind: .unary)
    static let slowReader = RPCMethod(service: "test.Probe", name: "SlowReader", kind: .clientStreaming)
    /// When the slow reader started reading.
    let readingStarted = NIOLockedValueBox<ContinuousClock.Instant?>(nil)

    var routes: [RPCRoute] {
        [
            RPCRoute(method: Self.slow, handler: .unary { request, _ in
                self.started.withLockedValue { $0 += 1 }
                do {
                    // The request is a big-endian count of 10 ms units: [250] is 2.5 s, [3, 232] 10 s.
                    try await Task.sleep(for: .milliseconds(request.reduce(0) { $0 * 256 + Int($1) } * 10))
                } catch {
                    self.cancelled.withLockedValue { $0 += 1 }
                    throw error
                }
                return request
            }),
            RPCRoute(method: Self.echo, handler: .unary { request, _ in request }),
            RPCRoute(method: Self.slowReader, handler: .clientStreaming { requests, _ in
                try await Task.sleep(for: .seconds(1))  // reads nothing for a second
                self.readingStarted.withLockedValue { $0 = .now }
                var total = 0
                for try await message in requests { total += message.count }
                return Array(String(total).utf8)
            }),
        ]
    }
}

@Suite("gRPC calls through the transport")
struct GRPCTransportTests {
    static func withClient(
        configure: (inout TransportConfiguration) -> Void = { _ in },
        _ body: (GRPCChannel, ProbeService, TransportServer) async throws -> Void
    ) async throws {
        let probe = ProbeService()
        try await withRunningTransport(routes: probe.routes, configure: configure) { server, group in
            let channel = GRPCChannel(host: "127.0.0.1", port: server.localPort, group: group)
            do {
                try await body(channel, probe, server)
            } catch {
                await channel.close()
                throw error
            }
            await channel.close()
        }
    }

    @Test("a deadline ends the call with DEADLINE_EXCEEDED and cancels the handler's task")
    func deadlineCancelsHandler() async throws {
        try await Self.withClient { channel, probe, _ in
            // The handler would take 40 s; the deadline is 15 s, generous so that a stalled,
            // loaded machine still delivers the request whole in time to start the handler.
            // (A request still arriving when its deadline passes never starts its handler: see
            // GRPCServerStreamStateTests.deadlineExpiredWhenReceiving.)
            await #expect {
                _ = try await channel.unary(ProbeService.slow, request: [15, 160], options: CallOptions(timeout: .seconds(15)))
            } throws: { ($0 as? ServiceError)?.code == .deadlineExceeded }
            try await Self.eventually { probe.started.withLockedValue { $0 } == 1 }
            try await Self.eventually { probe.cancelled.withLockedValue { $0 } == 1 }
        }
    }

    @Test("a client that cancels (RST_STREAM) cancels the handler's task")
    func cancellationReachesHandler() async throws {
        try await Self.withClient { channel, probe, _ in
            // The handler would take 30 s: only the cancellation ends it sooner, however long a
            // loaded machine stalls between its start and the client's RST_STREAM.
            let call = Task { try await channel.unary(ProbeService.slow, request: [11, 184], options: CallOptions()) }
            try await Self.eventually { probe.started.withLockedValue { $0 } == 1 }
            call.cancel()
            let outcome = await call.result
            if probe.started.withLockedValue({ $0 }) == 0 { Issue.record("the handler never started; the call: \(outcome)") }
            try await Self.eventually { probe.cancelled.withLockedValue { $0 } == 1 }
        }
    }

    @Test("finished calls leave no stream state behind")
    func streamsAreReleased() async throws {
        try await Self.withClient { channel, _, server in
            for index in 0..<200 {
                _ = try await channel.unary(ProbeService.echo, request: [UInt8(index % 256)], options: CallOptions())
            }
            await #expect(throws: ServiceError.self) {
                _ = try await channel.unary(RPCMethod(service: "test.Probe", name: "Nope", kind: .unary), request: [], options: CallOptions())
            }
            try await Task.sleep(for: .milliseconds(50))
            #expect(await server.openStreamCount() == 0)
        }
    }

    @Test("a handler that does not read stops a streaming client through flow control")
    func streamingBackpressure() async throws {
        try await Self.withClient { channel, probe, _ in
            let chunk = [UInt8](repeating: 1, count: 64 * 1024)
            let sentEarly = NIOLockedValueBox(0)
            let reply = try await channel.clientStreaming(ProbeService.slowReader, options: CallOptions()) { sink in
                for _ in 0..<64 {  // 4 MiB, four times the stream window
                    try await sink.send(chunk)
                    if probe.readingStarted.withLockedValue({ $0 == nil }) { sentEarly.withLockedValue { $0 += 1 } }
                }
            }
            #expect(String(decoding: reply, as: UTF8.self) == String(64 * (64 * 1024 + 0)))
            // Before the handler read, only about one stream window (1 MiB) could be in flight.
            let early = sentEarly.withLockedValue { $0 }
            #expect(early < 32, "\(early) of 64 chunks were accepted before the handler read anything")
        }
    }

    @Test("a message over the receive limit is RESOURCE_EXHAUSTED")
    func messageTooLarge() async throws {
        try await Self.withClient(configure: { $0.maxReceiveMessageSize = 1024 }) { channel, _, _ in
            let reply = try await channel.unary(ProbeService.echo, request: [UInt8](repeating: 7, count: 1024), options: CallOptions())
            #expect(reply.count == 1024)
            await #expect {
                _ = try await channel.unary(ProbeService.echo, request: [UInt8](repeating: 7, count: 1025), options: CallOptions())
            } throws: { ($0 as? ServiceError)?.code == .resourceExhausted }
        }
    }

    @Test("graceful shutdown lets an in-flight call finish, then refuses new connections")
    func gracefulShutdown() async throws {
        let probe = ProbeService()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await TransportServer.start(
            configuration: TransportConfiguration(host: "127.0.0.1", port: 0),
            router: RPCRouter(routes: probe.routes),
            httpService: HTTPHealthService(),
            group: group,
            logger: .init(label: "test")
        )
        let channel = GRPCChannel(host: "127.0.0.1", port: server.localPort, group: group)
        _ = try await channel.unary(ProbeService.echo, request: [1], options: CallOptions())
        let inFlight = Task { try await channel.unary(ProbeService.slow, request: [30], options: CallOptions()) }
        try await GRPCTransportTests.eventually { probe.started.withLockedValue { $0 } == 1 }
        await server.shutdown(gracePeriod: .seconds(5))
        #expect(try await inFlight.value == [30])
        let late = GRPCChannel(host: "127.0.0.1", port: server.localPort, group: group)
        await #expect {
            _ = try await late.unary(ProbeService.echo, request: [1], options: CallOptions())
        } throws: { ($0 as? ServiceError)?.code == .unavailable }
        await channel.close()
        try await group.shutdownGracefully()
    }

    @Test("connections over the limit are refused while the others are served")
    func connectionLimit() async throws {
        try await Self.withClient(configure: {
            $0.maxConnections = 2
            $0.maxConnectionsPerClient = 2
            $0.handshakeTimeout = .seconds(60)  // the silent first connection is kept meanwhile
        }) { channel, _, server in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let first = try await TestConnection.connect(port: server.localPort, group: group)
            _ = try await channel.unary(ProbeService.echo, request: [1], options: CallOptions())  // second
            let third = try await TestConnection.connect(port: server.localPort, group: group)
            _ = try await third.waitFor(timeout: .seconds(20)) { _ in false }
            #expect(third.isClosed)
            #expect(!first.isClosed)
            #expect(try await channel.unary(ProbeService.echo, request: [2], options: CallOptions()) == [2])
            await first.close()
            try await group.shutdownGracefully()
        }
    }

    @Test("connections over the per-client-address limit are refused; a closed one frees its slot")
    func connectionLimitPerClient() async throws {
        try await Self.withClient(configure: {
            $0.maxConnectionsPerClient = 2
            $0.handshakeTimeout = .seconds(60)  // the silent first connection is kept meanwhile
        }) { channel, _, server in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let first = try await TestConnection.connect(port: server.localPort, group: group)
            _ = try await channel.unary(ProbeService.echo, request: [1], options: CallOptions())  // second
            let third = try await TestConnection.connect(port: server.localPort, group: group)
            _ = try await third.waitFor(timeout: .seconds(20)) { _ in false }
            #expect(third.isClosed)
            #expect(!first.isClosed)
            await first.close()
            try await Self.eventually { server.connectionCount == 1 }
            let fourth = try await TestConnection.connect(port: server.localPort, group: group)
            _ = try await fourth.waitFor(timeout: .milliseconds(500)) { _ in false }
            #expect(!fourth.isClosed)
            await fourth.close()
            try await group.shutdownGracefully()
        }
    }

    /// Waits for `condition`; generously, as the whole suite runs in parallel on two cores and the
    /// CI machine has been seen to stall for ten seconds.
    static func eventually(timeout: Duration = .seconds(20), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within \(timeout)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
