import Foundation
import Logging
import SessionCore
import SessionStorePostgres
import SessionStoreSQLite

/// The store backends every contract test runs against.
package enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    package var description: String { self.rawValue }

    /// A fresh, empty store: a new SQLite file, or a new PostgreSQL database on the server that
    /// `./tools/test` starts (`SESSIONS_TEST_POSTGRES_URL`). Without that server the test fails;
    /// it never skips silently.
    package func makeStore() async throws -> any SessionStore {
        switch self {
        case .sqlite:
            let directory = try PythonScript.temporaryDirectory()
            return try SQLiteSessionStore(path: directory.appendingPathComponent("sessions.sqlite").path)
        case .postgres:
            var logger = Logger(label: "test-postgres")
            logger.logLevel = .warning
            return try await PostgresSessionStore.connect(url: try await Self.freshDatabase(), logger: logger)
        }
    }

    /// `count` stores on one fresh database, as `count` instances would have: on PostgreSQL each
    /// with its own connection pool; on SQLite, which has one writer per file by design, the same
    /// store object each time.
    package func makeStores(count: Int) async throws -> [any SessionStore] {
        switch self {
        case .sqlite:
            return Array(repeating: try await self.makeStore(), count: count)
        case .postgres:
            var logger = Logger(label: "test-postgres")
            logger.logLevel = .warning
            let url = try await Self.freshDatabase()
            var stores: [any SessionStore] = []
            for _ in 0..<count { stores.append(try await PostgresSessionStore.connect(url: url, logger: logger)) }
            return stores
        }
    }

    /// Creates a database named for one test and returns its URL.
    package static func freshDatabase() async throws -> String {
        guard let admin = ProcessInfo.processInfo.environment["SESSIONS_TEST_POSTGRES_URL"], !admin.isEmpty else {
            throw PythonScript.Failure(
                description: "SESSIONS_TEST_POSTGRES_URL is not set: run ./tools/test, which starts PostgreSQL")
        }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let (status, output) = try await runCommand("/usr/bin/psql", [admin, "-q", "-c", "CREATE DATABASE \(name)"])
        guard status == 0 else { throw PythonScript.Failure(description: "cannot create database \(name): \(output)") }
        guard var components = URLComponents(string: admin) else { throw PythonScript.Failure(description: "bad URL") }
        components.path = "/" + name
        // Plain connections: the suite opens hundreds at once on two cores; TLS to PostgreSQL has
        // its own tests (PostgresTLSTests).
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "sslmode", value: "disable")]
        return components.string ?? admin
    }
}
