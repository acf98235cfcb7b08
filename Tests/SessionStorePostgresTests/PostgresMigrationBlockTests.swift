import Foundation
import Logging
import PostgresNIO
import TestSupport
import Testing

@testable import SessionStorePostgres

/// Each migration goes to PostgreSQL as one `DO` block: all of it with its version, or none.
@Suite("PostgreSQL migrations as one statement each")
struct PostgresMigrationBlockTests {
    @Test("a migration that fails part-way leaves none of its statements and no version behind")
    func migrationBlockWhenAStatementFails() async throws {
        var logger = Logger(label: "test-postgres")
        logger.logLevel = .warning
        let url = try await StoreKind.freshDatabase()
        let store = try await PostgresSessionStore.connect(url: url, logger: logger)
        defer { store.close() }
        let block = PostgresSchema.block(version: 99, [
            "CREATE TABLE half_applied (x INTEGER)",
            "ALTER TABLE sessions ADD COLUMN half_applied INTEGER",
            "CREATE TABLE half_applied (x INTEGER)",  // fails: exists since the first statement
        ])
        await #expect(throws: PSQLError.self) {
            _ = try await store.client.query(PostgresQuery(unsafeSQL: block), logger: logger)
        }
        let (status, output) = try await runCommand("/usr/bin/psql", [url, "-At", "-c", """
            SELECT to_regclass('half_applied') IS NULL,
                   NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE column_name = 'half_applied'),
                   (SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations)
            """])
        #expect(status == 0, "\(output)")
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "t|t|1,2", "\(output)")

        // The same block without the failing statement applies whole.
        _ = try await store.client.query(PostgresQuery(unsafeSQL: PostgresSchema.block(version: 99, [
            "CREATE TABLE half_applied (x INTEGER)",
        ])), logger: logger)
        let (_, after) = try await runCommand("/usr/bin/psql", [url, "-At", "-c", """
            SELECT to_regclass('half_applied') IS NOT NULL, (SELECT max(version) FROM schema_migrations)
            """])
        #expect(after.trimmingCharacters(in: .whitespacesAndNewlines) == "t|99", "\(after)")
    }
}
