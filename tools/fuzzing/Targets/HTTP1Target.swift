import Auth
import BrowserRPC
import Foundation
import HTTPMessages
@testable import HTTP2Transport
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import RESTGateway
import RPCCore
import SessionAPI

/// The HTTP/1.1 request path as a connection sees it: bytes in chunks through NIO's request
/// decoder (the pipeline `TransportServer` builds) into `HTTP1ServerHandler`, and from there the
/// browser RPC protocols (gRPC-Web, Connect) in front of the REST gateway: request target, route table, headers, body checks and JSON, authentication.
///
/// The RPC side is a router without the session service, so a request that passes every gateway
/// check is answered at once (`UNIMPLEMENTED`) on the channel's loop, and one whose body the
/// gateway rejects meets the real auth interceptor first; the session handlers and stores are
/// not part of this target. The server-streaming route
/// (`/events`, Server-Sent Events) is left out: its call runs in an unstructured task on the
/// global executor, which `EmbeddedEventLoop` (single-threaded by contract) cannot host.
enum HTTP1Target {
    static let secret = Array("fuzz-secret-0123456789abcdef".utf8)

    /// gRPC-Web and Connect in front of the REST gateway, as the server has them.
    static let gateway: BrowserRPCService = {
        let verifier = JWTVerifier(secrets: [Self.secret])
        let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
        let cors = CORSPolicy(origins: ["https://app.example.com"])
        let channel = InProcessChannel(router: RPCRouter())
        let rest = RESTGateway(
            channel: channel,
            bindings: SessionServiceHTTPRoutes.bindings.filter { !$0.route.rpc.kind.serverStreams },
            openAPIDocument: SessionAPIOpenAPI.document,
            authenticator: AuthInterceptor(verifier: verifier),
            cors: cors,
            logger: logger
        )
        return BrowserRPCService(
            channel: channel,
            methods: SessionServiceMethods.all.filter { !$0.kind.serverStreams },
            codecs: SessionServiceJSONCodecs.all,
            authenticator: AuthInterceptor(verifier: verifier),
            cors: cors,
            fallback: rest,
            maxMessageSize: 64 * 1024,
            logger: logger
        )
    }()

    static let peer = try! SocketAddress(ipAddress: "192.0.2.1", port: 40000)
    static let debug = ProcessInfo.processInfo.environment["FUZZ_DEBUG"] != nil

    @Sendable static func run(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzInput(bytes)
        var split = input.byte()
        let payload = Array(input.rest)
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        do {
            // A small body limit, so the fuzzer reaches the 413 path.
            let handler = HTTP1ServerHandler(service: Self.gateway, maxBodySize: 2048)
            try HTTP1ServerHandler.addHandlers(handler, to: channel.pipeline.syncOperations)
            try channel.connect(to: Self.peer).wait()  // active, as an accepted connection is
        } catch {
            preconditionFailure("pipeline: \(error)")
        }
        var offset = 0
        while offset < payload.count, channel.isActive {
            // Chunk sizes 1...64 bytes, as TCP might deliver them.
            let size = min(payload.count - offset, Int(split & 0x3F) + 1)
            split = split >> 1 | split << 7
            do {
                try channel.writeInbound(ByteBuffer(bytes: payload[offset..<offset + size]))
            } catch {
                break
            }
            offset += size
            channel.embeddedEventLoop.run()
            while let output = try? channel.readOutbound(as: ByteBuffer.self) {
                if Self.debug { print(String(buffer: output), terminator: "") }
            }
        }
        channel.embeddedEventLoop.run()
    }

    static var seeds: [[UInt8]] {
        let token = TokenSigner(secret: Self.secret).token(
            subject: "user_1", role: "researcher", org: "org_1", issuedAt: Date(timeIntervalSince1970: 1_773_655_200), lifetime: 100 * 365 * 86400
        )
        let body = #"{"jobId": "job_1", "testerId": "u", "variant": "A"}"#
        let requests = [
            "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
            "POST /api/sessions HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)",
            "GET /api/sessions?jobId=j%20x&limit=5&status=active&cursor=abc HTTP/1.1\r\nHost: a\r\n"
                + "Authorization: Bearer \(token)\r\nX-Request-Id: r1\r\n\r\nGET /readyz HTTP/1.1\r\nHost: a\r\n\r\n",
            "PATCH /api/sessions/s%2F1/notes HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                + "Content-Type: application/json; charset=utf-8\r\n\r\n5\r\n{\"no\"\r\n4\r\ntes\"\r\n0\r\n\r\n",
            "OPTIONS /api/sessions/x HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n"
                + "Access-Control-Request-Method: POST\r\n\r\n",
            "POST /api/sessions/x/complete HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3000\r\n\r\n",
            "GET /api/sessions/x/analysis HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(token)\r\n\r\n"
                + "GET /openapi.json HTTP/1.0\r\n\r\n",
            // gRPC-Web and Connect: JSON, proto, base64 text, GET with a query, a preflight.
            "POST /sessions.v1.SessionService/CreateSession HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nConnect-Protocol-Version: 1\r\nConnect-Timeout-Ms: 500\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)",
            "POST /sessions.v1.SessionService/GetSession HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/grpc-web-text\r\nX-Grpc-Web: 1\r\nGrpc-Timeout: 1S\r\nContent-Length: 16\r\n\r\n"
                + "AAAAAAUKA3Nlcw==",
            "GET /sessions.v1.SessionService/GetSession?encoding=json&message=%7B%22sessionId%22%3A%22s%22%7D&connect=v1 HTTP/1.1\r\n"
                + "Host: a\r\nAuthorization: Bearer \(token)\r\n\r\n"
                + "GET /sessions.v1.SessionService/GetNotes?encoding=proto&base64=1&message=CgFz&compression=identity HTTP/1.1\r\n"
                + "Host: a\r\nAuthorization: Bearer \(token)\r\n\r\n",
            "POST /sessions.v1.SessionService/PauseSession HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/grpc-web+proto\r\nContent-Length: 8\r\n\r\n\u{0}\u{0}\u{0}\u{0}\u{3}\u{A}\u{1}s",
            "OPTIONS /sessions.v1.SessionService/GetSession HTTP/1.1\r\nHost: a\r\nOrigin: https://app.example.com\r\n"
                + "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: connect-protocol-version\r\n\r\n",
        ]
        return requests.enumerated().map { [UInt8(truncatingIfNeeded: $0.offset * 37 + 11)] + Array($0.element.utf8) }
    }
}
