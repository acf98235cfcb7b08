import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import RPCCore

/// One listening socket that serves gRPC (HTTP/2) and REST (HTTP/1.1) on the same port.
package final class TransportServer: Sendable {
    private let channel: any Channel
    package let logger: Logger

    private init(channel: any Channel, logger: Logger) {
        self.channel = channel
        self.logger = logger
    }

    /// Binds and starts accepting connections.
    package static func start(
        configuration: TransportConfiguration,
        router: RPCRouter,
        httpService: any HTTPService,
        group: any EventLoopGroup,
        logger: Logger
    ) async throws -> TransportServer {
        let maxBody = configuration.maxHTTPBodySize
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let sniffer = ProtocolSniffer(
                    configureHTTP2: { channel in
                        // HTTP/2 is served by HTTP2ConnectionHandler once the transport lands it.
                        channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
                    },
                    configureHTTP1: { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
                            try channel.pipeline.syncOperations.addHandler(
                                HTTP1ServerHandler(service: httpService, maxBodySize: maxBody)
                            )
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(sniffer)
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        _ = router
        return TransportServer(channel: channel, logger: logger)
    }

    /// The port actually bound (useful with port 0).
    package var localPort: Int {
        self.channel.localAddress?.port ?? 0
    }

    package var localAddress: String {
        "\(self.channel.localAddress?.ipAddress ?? "?"):\(self.localPort)"
    }

    /// Stops accepting connections and closes the listener.
    package func close() async {
        try? await self.channel.close()
    }

    /// Completes when the listener closes.
    package func waitUntilClosed() async {
        try? await self.channel.closeFuture.get()
    }
}
