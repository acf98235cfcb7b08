import Auth
import Foundation
import Logging
import SessionServerKit

/// The whole server (`SessionServerKit.Server`) running in this process on 127.0.0.1 and a free
/// port, with a fresh data directory: what `sessiond serve` runs, without a subprocess.
package final class RunningServer: Sendable {
    package let port: Int
    package let dataDirectory: URL
    /// The HMAC secret the server created in its data directory (or was given).
    package let secret: [UInt8]
    private let server: Server
    private let running: Task<Void, any Error>

    private init(port: Int, dataDirectory: URL, secret: [UInt8], server: Server, running: Task<Void, any Error>) {
        self.port = port
        self.dataDirectory = dataDirectory
        self.secret = secret
        self.server = server
        self.running = running
    }

    /// Starts a server; `configure` adjusts the configuration (store, limits, CORS…) first.
    package static func start(_ configure: (inout ServerConfiguration) throws -> Void = { _ in }) async throws -> RunningServer {
        let data = try PythonScript.temporaryDirectory()
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.dataDirectory = data.path
        configuration.eventLoops = 2
        configuration.environment = [:]
        try configure(&configuration)
        var logger = Logger(label: "sessiond-in-process")
        logger.logLevel = .warning
        let server = try await Server.start(configuration, logger: logger)
        let running = Task { try await server.run() }
        guard let port = server.localAddress.split(separator: ":").last.flatMap({ Int($0) }) else {
            await server.shutDown()
            throw TestFailure("no port in \(server.localAddress)")
        }
        // The secret file it was given, or the one it created (a gateway with neither has none).
        let secretFile = configuration.jwtSecretFile ?? data.appendingPathComponent("jwt-secret").path
        let secretText = (try? String(contentsOfFile: secretFile, encoding: .utf8)) ?? ""
        let secret = Array(secretText.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        return RunningServer(port: port, dataDirectory: data, secret: secret, server: server, running: running)
    }

    /// Shuts down gracefully and waits until every part has stopped.
    package func stop() async throws {
        await self.server.shutDown()
        try await self.running.value
    }

    /// A token this server accepts.
    package func token(subject: String, role: String, org: String, lifetime: TimeInterval = 900) -> String {
        TokenSigner(secret: self.secret).token(subject: subject, role: role, org: org, issuedAt: Date(), lifetime: lifetime)
    }
}

/// Runs `body` against a server started for it, and stops the server afterwards (also when
/// `body` throws).
package func withRunningServer<T>(
    _ configure: (inout ServerConfiguration) throws -> Void = { _ in },
    _ body: (RunningServer) async throws -> T
) async throws -> T {
    let server = try await RunningServer.start(configure)
    do {
        let result = try await body(server)
        try await server.stop()
        return result
    } catch {
        try? await server.stop()
        throw error
    }
}

/// A test precondition that did not hold.
package struct TestFailure: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}
