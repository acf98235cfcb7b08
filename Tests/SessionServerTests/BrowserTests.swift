import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("browsers and plain HTTP clients: gRPC-Web and Connect with stock clients")
struct BrowserTests {
    /// `connect_clients.py`: connectrpc (PyPI, stubs from its protoc plugin) with both codecs over
    /// HTTP/1.1 and h2 through the whole lifecycle, every method and WatchSession, Connect GET and
    /// the error cases; gRPC-Web and gRPC through the same client; `buf curl` with --protocol
    /// connect, grpcweb and grpc over HTTP/1.1 and h2; a gRPC-Web-text call by hand with requests.
    @Test("every method through connectrpc, buf curl and a hand-written gRPC-Web-text call", arguments: StoreKind.allCases)
    func stockClients(kind: StoreKind) async throws {
        let data = try PythonScript.temporaryDirectory()
        var arguments = ["serve", "--port", "0", "--data-dir", data.path]
        if kind == .postgres { arguments += ["--database-url", try await StoreKind.freshDatabase()] }
        let server = try await ServerProcess("sessiond", arguments)
        let port = try #require(server.port)
        let output = try await PythonScript.run(
            "Tests/SessionServerTests/connect_clients.py",
            ["--port", String(port), "--secret-file", data.appendingPathComponent("jwt-secret").path],
            timeout: .seconds(240)
        )
        let status = await server.stop()
        print(output.text)
        #expect(output.status == 0, "\(output.text)")
        #expect(output.text.contains(" 0 failed"), "\(output.text)")
        let errors = await server.standardError()
        #expect(status == 0, "exit status \(status): \(errors)")
    }

    /// `browser_page.py` serves a plain HTML + JS page on 127.0.0.1:PAGE, the one origin the
    /// server allows; in headless Chromium (Debian's package) the page calls GetSession over
    /// Connect unary and WatchSession over Connect server streaming with fetch() (both preflighted),
    /// and a REST GET, and posts what it saw back to the script. The same page loaded from
    /// http://localhost:PAGE, another origin, must see every call rejected with a TypeError.
    @Test("a page in headless Chromium calls GetSession and WatchSession over Connect from an allowed origin, and is refused from another")
    func connectFromAnotherOrigin() async throws {
        // Held until the page server has bound it too: a port merely free a moment ago was once
        // taken by another test's server in between (EADDRINUSE in the script).
        let (pagePort, reservation) = try Self.reserveLocalPort()
        defer { close(reservation) }
        let data = try PythonScript.temporaryDirectory()
        let server = try await ServerProcess(
            "sessiond",
            ["serve", "--port", "0", "--data-dir", data.path, "--cors-origins", "http://127.0.0.1:\(pagePort)"]
        )
        let port = try #require(server.port)
        let output = try await PythonScript.run(
            "Tests/SessionServerTests/browser_page.py",
            ["--port", String(port), "--secret-file", data.appendingPathComponent("jwt-secret").path,
                "--page-port", String(pagePort)],
            timeout: .seconds(120)
        )
        let status = await server.stop()
        print(output.text)
        #expect(output.status == 0, "\(output.text)")
        #expect(output.text.contains(" 0 failed"), "\(output.text)")
        let errors = await server.standardError()
        #expect(status == 0, "exit status \(status): \(errors)")
    }

    /// A TCP port on 127.0.0.1 and the socket that holds it: bound (port 0, read back) with
    /// SO_REUSEADDR and never listening, so the page server (Python's `HTTPServer` sets
    /// SO_REUSEADDR too) can bind and listen on it while nothing else can take it.
    private static func reserveLocalPort() throws -> (port: Int, descriptor: Int32) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw PythonScript.Failure(description: "socket: errno \(errno)") }
        var reuse: Int32 = 1
        guard setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            close(descriptor)
            throw PythonScript.Failure(description: "setsockopt: errno \(errno)")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw PythonScript.Failure(description: "bind: errno \(errno)")
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else {
            close(descriptor)
            throw PythonScript.Failure(description: "getsockname: errno \(errno)")
        }
        return (Int(UInt16(bigEndian: address.sin_port)), descriptor)
    }
}
