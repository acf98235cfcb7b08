import Auth
import Foundation
@testable import HTTP2Transport
import Logging
import NIOCore
import NIOEmbedded
import RESTGateway
import RPCCore
import SessionAPI
import StandardServices

/// HTTP/2 frame sequences into a real `HTTP2ConnectionHandler` (nghttp2 parses; our callbacks,
/// stream state machine, budgets, gRPC framing and the REST-over-h2 path are under test), on an
/// `EmbeddedChannel`. Behind it: the real health and reflection services (unary, server- and
/// bidirectional streaming calls, in tasks on the channel's loop) and the REST gateway.
///
/// Input: the client preface is implied; then records, each `type flags stream length` (one
/// byte each) and `length` payload bytes, sent as one frame with a correct length field, so
/// mutations reach the frame payloads instead of breaking the framing. Type 0xFE advances the
/// loop's clock by `length` seconds (deadlines, idle and keepalive timers).
enum HTTP2Target {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    static let peer = try! SocketAddress(ipAddress: "192.0.2.1", port: 40000)

    static let health: HealthService = {
        let health = HealthService()
        health.setStatus(.serving, for: "")
        return health
    }()

    static let router: RPCRouter = {
        var router = RPCRouter(routes: Self.health.routes)
        let reflection = ReflectionService(
            files: SessionAPISchema.files + StandardServicesSchema.files,
            services: ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]
        )
        router.register(reflection.allRoutes)
        return router
    }()

    static let gateway = RESTGateway(
        channel: InProcessChannel(router: Self.router),
        bindings: SessionServiceHTTPRoutes.bindings.filter { !$0.route.rpc.kind.serverStreams },
        openAPIDocument: SessionAPIOpenAPI.document,
        authenticator: AuthInterceptor(verifier: JWTVerifier(secrets: [Array("fuzz-secret".utf8)])),
        logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
    )

    static let configuration: TransportConfiguration = {
        var configuration = TransportConfiguration(host: "127.0.0.1", port: 0)
        // Small limits, so the fuzzer reaches them.
        configuration.maxReceiveMessageSize = 4096
        configuration.maxHTTPBodySize = 4096
        configuration.maxConcurrentStreams = 8
        configuration.maxBufferedBytesPerConnection = 64 << 10
        configuration.maxQueuedOutputBytesPerConnection = 64 << 10
        return configuration
    }()

    static let debug = ProcessInfo.processInfo.environment["FUZZ_DEBUG"] != nil

    @Sendable static func run(_ bytes: UnsafeRawBufferPointer) {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        let handler = HTTP2ConnectionHandler(
            router: Self.router, httpService: Self.gateway, configuration: Self.configuration,
            logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        do {
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: Self.peer).wait()
            try channel.writeInbound(ByteBuffer(bytes: Self.preface))
        } catch {
            preconditionFailure("pipeline: \(error)")
        }
        var input = FuzzInput(bytes)
        while !input.rest.isEmpty, channel.isActive {
            let type = input.byte()
            let flags = input.byte()
            let stream = input.byte()
            let length = Int(input.byte())
            if type == 0xFE {
                channel.embeddedEventLoop.advanceTime(by: .seconds(Int64(length)))
            } else {
                let payload = input.prefix(length)
                var frame = ByteBuffer()
                frame.writeInteger(UInt32(payload.count) << 8 | UInt32(type))  // 24-bit length, type
                frame.writeInteger(flags)
                frame.writeInteger(UInt32(stream))
                frame.writeBytes(payload)
                do {
                    try channel.writeInbound(frame)
                } catch {
                    break
                }
            }
            Self.drain(channel)
        }
        Self.drain(channel)
    }

    /// Runs what the loop has queued (handler tasks, flushes) and takes the output.
    static func drain(_ channel: EmbeddedChannel) {
        channel.embeddedEventLoop.run()
        while let output = try? channel.readOutbound(as: ByteBuffer.self) {
            if Self.debug {
                print("out:", output.readableBytesView.map { String($0, radix: 16) }.joined(separator: " "))
            }
        }
    }

    static var seeds: [[UInt8]] {
        /// HPACK literal header fields without indexing, new names, no Huffman (RFC 7541 §6.2.2).
        func headers(_ fields: [(String, String)]) -> [UInt8] {
            var block: [UInt8] = []
            for (name, value) in fields {
                block += [0x00, UInt8(name.utf8.count)]
                block += Array(name.utf8)
                block.append(UInt8(value.utf8.count))
                block += Array(value.utf8)
            }
            return block
        }
        func record(_ type: UInt8, _ flags: UInt8, _ stream: UInt8, _ payload: [UInt8]) -> [UInt8] {
            [type, flags, stream, UInt8(payload.count)] + payload
        }
        func grpc(_ path: String) -> [UInt8] {
            headers([(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "a"),
                ("content-type", "application/grpc"), ("te", "trailers"), ("grpc-timeout", "5S")])
        }
        let settings = record(0x4, 0, 0, [0, 3, 0, 0, 0, 100])  // SETTINGS_MAX_CONCURRENT_STREAMS = 100
        let settingsAck = record(0x4, 0x1, 0, [])
        var check = HealthCheckRequest()
        check.service = ""
        let checkBytes = check.serializedBytes()
        let message = [0, 0, 0, 0, UInt8(checkBytes.count)] + checkBytes
        let reflectionRequest: [UInt8] = [0, 0, 0, 0, 2, 0x3A, 0x00]  // list_services = ""
        return [
            // A unary health check, then a PING.
            settings + settingsAck + record(0x1, 0x4, 1, grpc("/grpc.health.v1.Health/Check"))
                + record(0x0, 0x1, 1, message) + record(0x6, 0, 0, Array(repeating: 7, count: 8)),
            // A health watch that the client resets, then GOAWAY.
            settings + record(0x1, 0x4, 3, grpc("/grpc.health.v1.Health/Watch")) + record(0x0, 0x1, 3, message)
                + record(0x3, 0, 3, [0, 0, 0, 8]) + record(0x7, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0]),
            // Reflection (bidirectional), split over two DATA frames, with a WINDOW_UPDATE.
            settings + record(0x1, 0x4, 1, grpc("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"))
                + record(0x0, 0, 1, Array(reflectionRequest.prefix(3)))
                + record(0x0, 0x1, 1, Array(reflectionRequest.dropFirst(3)))
                + record(0x8, 0, 0, [0, 1, 0, 0]),
            // REST over h2: a GET and a POST with a JSON body; then time passes.
            settings
                + record(0x1, 0x5, 1, headers([(":method", "GET"), (":scheme", "http"), (":path", "/healthz")]))
                + record(0x1, 0x4, 3, headers([(":method", "POST"), (":scheme", "http"), (":path", "/api/sessions"),
                    (":authority", "a"), ("content-type", "application/json")]))
                + record(0x0, 0x1, 3, Array(#"{"jobId": "j", "testerId": "t", "variant": "A"}"#.utf8))
                + [0xFE, 0, 0, 200],
            // An unknown method, a call with a compressed message and no encoding, CONTINUATION.
            settings + record(0x1, 0x4, 1, grpc("/no.Such/Method")) + record(0x0, 0x1, 1, [1, 0, 0, 0, 0])
                + record(0x1, 0x0, 5, Array(grpc("/grpc.health.v1.Health/Check").prefix(20)))
                + record(0x9, 0x4, 5, Array(grpc("/grpc.health.v1.Health/Check").dropFirst(20))),
        ]
    }
}
