import HTTP2Transport
import InteropService
import NIOPosix
import RPCCore
import TestSupport
import Testing

@Suite("gRPC interop")
struct InteropTests {
    @Test("the grpcio interop client passes every case against our TestService")
    func grpcioClientAgainstOurServer() async throws {
        let output = try await withRunningTransport(routes: InteropTestService().interopRoutes) { server, _ in
            try await PythonScript.run("Tests/Interop/interop_client.py", ["--port", String(server.localPort)])
        }
        print(output.text)
        #expect(output.status == 0, "\(output.text)")
        #expect(output.text.contains("interop: 16 passed, 0 failed"), "\(output.text)")
    }
}

@Suite("our gRPC client")
struct SwiftClientInteropTests {
    static func run(port: Int, server: SwiftClientInterop.Server) async throws -> [String] {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = GRPCChannel(host: "127.0.0.1", port: port, group: group)
        let client = TestServiceClient(channel: channel)
        let unimplemented = UnimplementedServiceClient(channel: channel)
        var failures: [String] = []
        for (name, run) in SwiftClientInterop.cases {
            do {
                try await run(client, unimplemented, server)
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        await channel.close()
        try await group.shutdownGracefully()
        return failures
    }

    @Test("passes every interop case against a stock grpcio TestService server")
    func againstGrpcio() async throws {
        let server = try await BackgroundScript("Tests/Interop/interop_server.py")
        guard let port = server.port else {
            await server.stop()
            Issue.record("interop_server.py printed '\(server.firstLine)'")
            return
        }
        let failures = try await Self.run(port: port, server: .init(checksRequestCompression: false))
        await server.stop()
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("passes every interop case against our own server")
    func againstOurServer() async throws {
        let failures = try await withRunningTransport(routes: InteropTestService().interopRoutes) { server, _ in
            try await Self.run(port: server.localPort, server: .init(checksRequestCompression: true))
        }
        #expect(failures.isEmpty, "\(failures)")
    }
}
