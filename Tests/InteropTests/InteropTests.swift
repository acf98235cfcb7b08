import InteropService
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
