import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP/1.1 request on its own connection to 127.0.0.1, as a plain HTTP client (curl,
/// `requests`) sends it; for REST checks in Swift tests.
package enum HTTPTestClient {
    package struct Response: Sendable {
        package var status: Int
        package var headers: [(name: String, value: String)]
        package var body: [UInt8]

        package func header(_ name: String) -> String? {
            self.headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// Sends the request and returns the response; with `headOnly` (for event streams that never
    /// end) it returns at the response head and closes the connection; with `until`, as soon as
    /// the body received so far satisfies it (or the response ends).
    package static func request(
        port: Int,
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        headOnly: Bool = false,
        until: (@Sendable ([UInt8]) -> Bool)? = nil
    ) async throws -> Response {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: Response.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Collector(promise: promise, headOnly: headOnly, until: until))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
        head.headers.add(name: "host", value: "127.0.0.1:\(port)")
        head.headers.add(name: "connection", value: "close")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        if let body { head.headers.add(name: "content-length", value: String(body.count)) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer { channel.close(promise: nil) }
        return try await promise.futureResult.get()
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart

        private let promise: EventLoopPromise<Response>
        private let headOnly: Bool
        private let until: (@Sendable ([UInt8]) -> Bool)?
        private var response: Response?

        init(promise: EventLoopPromise<Response>, headOnly: Bool, until: (@Sendable ([UInt8]) -> Bool)?) {
            self.promise = promise
            self.headOnly = headOnly
            self.until = until
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch self.unwrapInboundIn(data) {
            case .head(let head):
                let response = Response(
                    status: Int(head.status.code),
                    headers: head.headers.map { ($0.name, $0.value) },
                    body: []
                )
                if self.headOnly {
                    self.promise.succeed(response)
                    context.close(promise: nil)
                } else {
                    self.response = response
                }
            case .body(let buffer):
                self.response?.body += buffer.readableBytesView
                if let until = self.until, let response = self.response, until(response.body) {
                    self.promise.succeed(response)
                    self.response = nil
                    context.close(promise: nil)
                }
            case .end:
                if let response = self.response { self.promise.succeed(response) }
                self.response = nil
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.promise.fail(ChannelError.ioOnClosedChannel)  // no effect once succeeded
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.promise.fail(error)
            context.close(promise: nil)
        }
    }
}
