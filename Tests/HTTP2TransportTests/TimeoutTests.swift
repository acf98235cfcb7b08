import HTTP2Transport
import NIOPosix
import RPCCore
import TestSupport
import Testing

@Suite("idle, keepalive and slow-request timeouts")
struct TimeoutTests {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]  // + empty SETTINGS

    /// True when `bytes` hold an HTTP/2 GOAWAY frame (type 7) after the server's SETTINGS.
    static func containsGoAway(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset + 9 <= bytes.count {
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            if bytes[offset + 3] == 7 { return true }
            offset += 9 + length
        }
        return false
    }

    @Test("an idle HTTP/2 connection gets GOAWAY and is closed")
    func http2Idle() async throws {
        try await withRunningTransport(routes: [], configure: { $0.idleTimeout = .milliseconds(300) }) { server, group in
            let connection = try await TestConnection.connect(port: server.localPort, group: group)
            try await connection.send(Self.preface)
            let bytes = try await connection.waitFor(timeout: .seconds(20)) { _ in false }
            #expect(connection.isClosed)
            #expect(Self.containsGoAway(bytes))
        }
    }

    @Test("a peer that stops answering PINGs is cut off; a live client is kept")
    func keepalive() async throws {
        let probe = ProbeService()
        try await withRunningTransport(routes: probe.routes, configure: {
            // A PING every 200 ms; its ACK may take a second (not 200 ms: on a loaded CI machine the
            // live client's loop stalls longer than that now and then, and was cut off).
            $0.keepaliveInterval = .milliseconds(200)
            $0.keepaliveTimeout = .seconds(1)
        }) { server, group in
            let silent = try await TestConnection.connect(port: server.localPort, group: group)
            try await silent.send(Self.preface)  // then never reads or acknowledges anything
            _ = try await silent.waitFor(timeout: .seconds(20)) { _ in false }
            #expect(silent.isClosed)

            let channel = GRPCChannel(host: "127.0.0.1", port: server.localPort, group: group)
            _ = try await channel.unary(ProbeService.echo, request: [1], options: CallOptions())
            try await Task.sleep(for: .seconds(1))  // several keepalive rounds, answered by nghttp2
            #expect(try await channel.unary(ProbeService.echo, request: [2], options: CallOptions()) == [2])
            #expect(server.connectionCount == 1, "the live client kept its one connection")
            await channel.close()
        }
    }

    @Test("an HTTP/1.1 request that trickles in too slowly is cut off (slowloris)")
    func slowHTTP1Request() async throws {
        try await withRunningTransport(routes: [], configure: { $0.http1RequestTimeout = .milliseconds(300) }) { server, group in
            let slow = try await TestConnection.connect(port: server.localPort, group: group)
            try await slow.send("GET /healthz HTTP/1.1\r\nHo")
            _ = try await slow.waitFor(timeout: .seconds(20)) { _ in false }
            #expect(slow.isClosed)
            let quick = try await TestConnection.connect(port: server.localPort, group: group)
            try await quick.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let reply = try await quick.waitFor { $0.text.contains("ok") }
            #expect(reply.text.hasPrefix("HTTP/1.1 200"))
            await quick.close()
        }
    }

    @Test(
        "a connection that does not send a whole preface or first request head in time is closed",
        arguments: ["", "PRI * HTTP/2.0\r\n", "GET /healthz HTTP/1.1\r\nHost: x\r\n"]
    )
    func handshakeWhenSilent(first: String) async throws {
        // Generous times: the whole suite runs in parallel on two cores.
        try await withRunningTransport(routes: [], configure: { $0.handshakeTimeout = .seconds(5) }) { server, group in
            let started = ContinuousClock.now
            let silent = try await TestConnection.connect(port: server.localPort, group: group)
            // A machine that stalls past the deadline here finds the connection already closed,
            // which is what is tested.
            if !first.isEmpty { try? await silent.send(first) }
            // Ones that greet in time are served past the deadline.
            let prompt = try await TestConnection.connect(port: server.localPort, group: group)
            try await prompt.send(Self.preface)
            let http1 = try await TestConnection.connect(port: server.localPort, group: group)
            try await http1.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try await silent.waitFor(timeout: .seconds(20)) { _ in false }
            #expect(silent.isClosed)
            #expect(ContinuousClock.now - started >= .milliseconds(4_900))
            #expect(ContinuousClock.now - started < .seconds(20))
            try await Task.sleep(for: .milliseconds(200))
            #expect(!prompt.isClosed)
            try await http1.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let replies = try await http1.waitFor { $0.occurrences(of: "HTTP/1.1 200") == 2 }
            #expect(replies.occurrences(of: "HTTP/1.1 200") == 2)
            await prompt.close()
            await http1.close()
        }
    }

    @Test("a preface that breaks off after 'PRI * HTTP/2.0' gets GOAWAY(PROTOCOL_ERROR) and is closed")
    func handshakeWhenPrefaceBroken() async throws {
        try await withRunningTransport(routes: []) { server, group in
            let broken = try await TestConnection.connect(port: server.localPort, group: group)
            try await broken.send("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
            let bytes = try await broken.waitFor(timeout: .seconds(20)) { _ in false }
            #expect(broken.isClosed)
            #expect(bytes == [0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        }
    }

    @Test("by default one client address may hold a tenth of the connection limit")
    func connectionsWhenOneAddressHoldsMany() async throws {
        try await withRunningTransport(routes: [], configure: { $0.maxConnections = 30; $0.handshakeTimeout = .seconds(60) }) { server, group in
            var held: [TestConnection] = []
            for _ in 0..<4 { held.append(try await TestConnection.connect(port: server.localPort, group: group)) }
            // Connections are admitted on their own event loops, so under load the fourth to
            // connect need not be the fourth admitted: one of the four is refused, any one.
            let deadline = ContinuousClock.now + .seconds(20)
            while !held.contains(where: \.isClosed), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(held.filter(\.isClosed).count == 1)
            for connection in held { await connection.close() }
        }
    }
}
