import Foundation
import Logging
import ServiceErrors
import SessionCore
import SessionStorePostgres
import SessionStoreSQLite
import TestSupport
import Testing

@Suite("migrations")
struct MigrationContractTests {
    static var logger: Logger {
        var logger = Logger(label: "test-postgres")
        logger.logLevel = .warning
        return logger
    }

    @Test("instances starting together on one PostgreSQL database migrate it once, in any order")
    func concurrentStarts() async throws {
        let url = try await StoreKind.freshDatabase()
        let stores = try await withThrowingTaskGroup(of: PostgresSessionStore.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresSessionStore.connect(url: url, logger: Self.logger) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        let (status, output) = try await runCommand("/usr/bin/psql", [url, "-At", "-c", "SELECT version FROM schema_migrations ORDER BY 1"])
        #expect(status == 0 && output.split(separator: "\n") == ["1", "2"], "\(output)")
        for store in stores { store.close() }
    }

    @Test("a database migrated by a newer sessiond is refused with a message saying so", arguments: StoreKind.allCases)
    func newerSchemaRefused(kind: StoreKind) async throws {
        let expectRefused: (any Error) -> Bool = { error in
            guard let error = error as? ServiceError else { return false }
            return error.code == .failedPrecondition && error.message.contains("schema is at version 99, newer than this sessiond")
        }
        switch kind {
        case .sqlite:
            let path = try PythonScript.temporaryDirectory().appendingPathComponent("sessions.sqlite").path
            _ = try SQLiteSessionStore(path: path)
            let (status, output) = try await runCommand("/usr/bin/python3", [
                "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('INSERT INTO schema_migrations VALUES (99)'); c.commit()",
                path,
            ])
            #expect(status == 0, "\(output)")
            #expect { _ = try SQLiteSessionStore(path: path) } throws: { expectRefused($0) }
        case .postgres:
            let url = try await StoreKind.freshDatabase()
            try await PostgresSessionStore.connect(url: url, logger: Self.logger).close()
            let (status, output) = try await runCommand("/usr/bin/psql", [url, "-c", "INSERT INTO schema_migrations VALUES (99)"])
            #expect(status == 0, "\(output)")
            await #expect { _ = try await PostgresSessionStore.connect(url: url, logger: Self.logger) } throws: { expectRefused($0) }
        }
    }
}
