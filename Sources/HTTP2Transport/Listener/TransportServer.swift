import HTTPMessages
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import RPCCore

/// One listening socket that serves gRPC and REST over HTTP/2 (h2c) and REST over HTTP/1.1 on the
/// same port, telling them apart by the connection preface.
package final class TransportServer: Sendable {
    private let channel: any Channel
    private let connections: ConnectionRegistry
    package let logger: Logger

    private init(channel: any Channel, connections: ConnectionRegistry, logger: Logger) {
        self.channel = channel
        self.connections = connections
        self.logger = logger
    }

    /// A connection reads once per wake-up of its event loop, at most `maxReadSize` bytes (NIO's
    /// default is four reads of up to 64 KiB each), from its first read (TLS and the protocol
    /// sniffer included) for as long as it speaks HTTP/1.1. Every pipelined request in a read is
    /// answered before the loop serves another connection, so a client sending many costly
    /// requests would otherwise hold the loop for 256 KiB of them per wake-up while every other
    /// connection waits. What is left stays in the kernel's buffer and makes the socket readable
    /// again: busy connections take turns, and a fresh client waits for one 16 KiB read of each
    /// busy connection. (The bound is per connection: a client with more connections gets more
    /// turns, within `TransportConfiguration.maxConnectionsPerClient`.)
    package static let maxReadSize = 16 * 1024
    /// Starts at 2 KiB and grows while reads fill their buffer, up to `maxReadSize`.
    private static let readAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: maxReadSize)

    /// An HTTP/2 connection reads as NIO does by default again, up to four reads of 64 KiB per
    /// wake-up: what one read makes the loop do is already bounded there by the stream limit and
    /// the flow-control windows. And nghttp2 recognises a control-frame flood (PING, SETTINGS)
    /// when more than `HTTP2SessionLimits.maxOutboundAcks` acknowledgements wait to be sent, which a
    /// 64 KiB read of PINGs exceeds; from 16 KiB reads of an endless flood it never has that
    /// many waiting while the socket takes the answers, and it answers the flood for ever.
    private static func readWholeBursts(_ channel: any Channel) throws {
        guard let options = channel.syncOptions else { throw ChannelError.operationUnsupported }
        try options.setOption(.maxMessagesPerRead, value: 4)
        try options.setOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator())
    }

    /// Binds and starts accepting connections.
    package static func start(
        configuration: TransportConfiguration,
        router: RPCRouter,
        httpService: any HTTPService,
        group: any EventLoopGroup,
        logger: Logger
    ) async throws -> TransportServer {
        let connections = ConnectionRegistry()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.recvAllocator, value: Self.readAllocator)
            .childChannelInitializer { channel in
                switch connections.admit(
                    channel, limit: configuration.maxConnections, perClientLimit: configuration.effectiveMaxConnectionsPerClient
                ) {
                case .admitted:
                    break
                case .serverFull:
                    logger.warning("connection limit reached; refusing a connection",
                        metadata: ["limit": "\(configuration.maxConnections)"])
                    return channel.close()
                case .clientFull:
                    logger.warning("connection limit per client address reached; refusing a connection",
                        metadata: ["limit": "\(configuration.effectiveMaxConnectionsPerClient)",
                            "client": "\(channel.remoteAddress?.ipAddress ?? "?")"])
                    return channel.close()
                }
                let sniffer = ProtocolSniffer(
                    deadline: .now() + TimeAmount(configuration.handshakeTimeout),
                    configureHTTP2: { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try Self.readWholeBursts(channel)
                            let handler = HTTP2ConnectionHandler(
                                router: router,
                                httpService: httpService,
                                configuration: configuration,
                                logger: logger
                            )
                            try channel.pipeline.syncOperations.addHandler(handler)
                            let loopBound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
                            connections.setDrain(for: channel) {
                                channel.eventLoop.execute { loopBound.value.beginGracefulShutdown() }
                            }
                            connections.setOpenStreams(for: channel) {
                                channel.eventLoop.submit { loopBound.value.streams.count }
                            }
                        }
                    },
                    configureHTTP1: { channel, firstRequestDeadline in
                        channel.eventLoop.makeCompletedFuture {
                            let handler = HTTP1ServerHandler(
                                service: httpService,
                                maxBodySize: configuration.maxHTTPBodySize,
                                requestTimeout: TimeAmount(configuration.http1RequestTimeout),
                                firstRequestDeadline: firstRequestDeadline
                            )
                            try HTTP1ServerHandler.addHandlers(handler, to: channel.pipeline.syncOperations)
                            let loopBound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
                            connections.setDrain(for: channel) {
                                channel.eventLoop.execute { loopBound.value.beginGracefulShutdown(channel: channel) }
                            }
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    if let tls = configuration.tls {
                        try channel.pipeline.syncOperations.addHandler(TLSServerHandler(context: tls))
                    }
                    try channel.pipeline.syncOperations.addHandler(sniffer)
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        return TransportServer(channel: channel, connections: connections, logger: logger)
    }

    /// The port actually bound (useful with port 0).
    package var localPort: Int {
        self.channel.localAddress?.port ?? 0
    }

    package var localAddress: String {
        "\(self.channel.localAddress?.ipAddress ?? "?"):\(self.localPort)"
    }

    /// Open client connections.
    package var connectionCount: Int { self.connections.count }

    /// HTTP/2 streams currently open on all connections (finished calls must not linger).
    package func openStreamCount() async -> Int {
        await self.connections.openStreamCount()
    }

    /// Graceful shutdown: stop accepting, send GOAWAY, let in-flight calls finish within
    /// `gracePeriod`, then close whatever is left.
    package func shutdown(gracePeriod: Duration) async {
        try? await self.channel.close()
        self.connections.drainAll()
        let connections = self.connections
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await connections.waitUntilEmpty() }
            group.addTask { try? await Task.sleep(for: gracePeriod) }
            await group.next()
            group.cancelAll()
        }
        self.connections.closeAll()
    }

    /// Stops accepting connections and closes every open one now.
    package func close() async {
        await self.shutdown(gracePeriod: .zero)
    }

    /// Completes when the listener closes.
    package func waitUntilClosed() async {
        try? await self.channel.closeFuture.get()
    }
}
