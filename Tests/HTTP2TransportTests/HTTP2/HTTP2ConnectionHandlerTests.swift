import HTTPMessages
@testable import HTTP2Transport
import Logging
import NIOCore
import NIOEmbedded
import RPCCore
import Testing

@Suite("HTTP/2 connection handlers")
struct HTTP2ConnectionHandlerTests {
    static let preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

    /// Found by the `http2` fuzz target (LeakSanitizer): the handler kept its
    /// `ChannelHandlerContext` after removal, and the context keeps its handler, so every closed
    /// connection left both behind with the handler's buffers.
    @Test("closing a server connection frees its handler and context")
    func closeWhenServerSessionOpen() throws {
        weak var released: HTTP2ConnectionHandler?
        try {
            let channel = EmbeddedChannel()
            let handler = HTTP2ConnectionHandler(
                router: RPCRouter(), httpService: HTTPHealthService(),
                configuration: TransportConfiguration(host: "127.0.0.1", port: 0), logger: Logger(label: "test")
            )
            released = handler
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            try channel.writeInbound(ByteBuffer(string: Self.preface))
            _ = try channel.finish(acceptAlreadyClosed: true)
        }()
        #expect(released == nil)
    }

    @Test("closing a client connection frees its handler and context")
    func closeWhenClientSessionOpen() throws {
        weak var released: HTTP2ClientConnectionHandler?
        try {
            let channel = EmbeddedChannel()
            let handler = HTTP2ClientConnectionHandler(authority: "127.0.0.1", maxMessageSize: 1 << 20)
            released = handler
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            _ = try channel.finish(acceptAlreadyClosed: true)
        }()
        #expect(released == nil)
    }
}
