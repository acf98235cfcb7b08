import HTTPMessages
import HTTP2Transport
import Logging
import NIOCore
import NIOPosix
import RPCCore

/// Runs a transport server on 127.0.0.1 with an OS-picked port for the duration of `body`, then
/// shuts it down gracefully (awaited), also when `body` throws.
package func withRunningTransport<Result>(
    routes: [RPCRoute],
    httpService: any HTTPService = HTTPHealthService(),
    configure: (inout TransportConfiguration) -> Void = { _ in },
    _ body: (TransportServer, any EventLoopGroup) async throws -> Result
) async throws -> Result {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    var configuration = TransportConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    var logger = Logger(label: "test-transport")
    logger.logLevel = .warning
    let server = try await TransportServer.start(
        configuration: configuration,
        router: RPCRouter(routes: routes),
        httpService: httpService,
        group: group,
        logger: logger
    )
    let result: Swift.Result<Result, any Error>
    do {
        result = .success(try await body(server, group))
    } catch {
        result = .failure(error)
    }
    await server.shutdown(gracePeriod: .seconds(2))
    try await group.shutdownGracefully()
    return try result.get()
}
