import HTTPMessages
import Foundation
import HTTP2Transport
import InteropService
import Logging
import NIOCore
import NIOPosix
import RPCCore
import StandardServices

/// `interop-server --port P`: grpc.testing.TestService on our transport, for the gRPC interop
/// cases. Prints `listening on HOST:PORT` first; stops on SIGINT/SIGTERM.
@main
enum InteropServer {
    static func main() async throws {
        var port = 0
        var arguments = CommandLine.arguments.dropFirst()
        while let argument = arguments.popFirst() {
            switch argument {
            case "--port":
                guard let value = arguments.popFirst().flatMap(Int.init) else {
                    FileHandle.standardError.write(Data("usage: interop-server --port PORT\n".utf8))
                    exit(2)
                }
                port = value
            default:
                FileHandle.standardError.write(Data("usage: interop-server --port PORT\n".utf8))
                exit(2)
            }
        }
        let logger = Logger(label: "interop-server")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: UsableCores.count)
        let health = HealthService()
        let router = RPCRouter(routes: InteropTestService().interopRoutes + health.routes)
        let server = try await TransportServer.start(
            configuration: TransportConfiguration(host: "127.0.0.1", port: port),
            router: router,
            httpService: HTTPHealthService(),
            group: group,
            logger: logger
        )
        FileHandle.standardOutput.write(Data("listening on \(server.localAddress)\n".utf8))
        _ = await SignalWatcher(signals: [SIGINT, SIGTERM]).next()
        await server.shutdown(gracePeriod: .seconds(5))
        try await group.shutdownGracefully()
    }
}
