import Logging
import PostgresNIO
import ServiceErrors
import SessionCore

/// The same logical schema as the SQLite store, as numbered, append-only migrations, applied at
/// start-up under an advisory lock so concurrently starting instances migrate once.
enum PostgresSchema {
    /// Arbitrary, fixed: the advisory lock key for migrations.
    static let migrationLock: Int64 = 0x5E55_10D0

    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                org TEXT NOT NULL,
                job_id TEXT NOT NULL,
                tester_id TEXT NOT NULL,
                variant TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                started_at DOUBLE PRECISION NOT NULL,
                completed_at DOUBLE PRECISION,
                paused_at DOUBLE PRECISION,
                active_seconds DOUBLE PRECISION NOT NULL,
                resumed_at DOUBLE PRECISION NOT NULL,
                analyzed_at DOUBLE PRECISION,
                confirmed_at DOUBLE PRECISION,
                last_analysis_error TEXT,
                updated_at DOUBLE PRECISION NOT NULL,
                version BIGINT NOT NULL,
                UNIQUE (org, job_id, tester_id)
            )
            """,
            "CREATE INDEX sessions_by_org ON sessions (org, created_at, id)",
            "CREATE INDEX sessions_by_job ON sessions (org, job_id, created_at, id)",
            "CREATE INDEX sessions_by_tester ON sessions (org, tester_id, created_at, id)",
            "CREATE INDEX sessions_by_status ON sessions (org, status, created_at, id)",
            """
            CREATE TABLE notes (
                id TEXT PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions (id),
                content TEXT NOT NULL,
                author_id TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                sequence BIGINT NOT NULL
            )
            """,
            "CREATE INDEX notes_by_session ON notes (session_id, sequence)",
            """
            CREATE TABLE feedback (
                session_id TEXT PRIMARY KEY REFERENCES sessions (id),
                id TEXT NOT NULL UNIQUE,
                clarity INTEGER NOT NULL,
                difficulty INTEGER NOT NULL,
                technical_issues BOOLEAN NOT NULL,
                comment TEXT NOT NULL,
                submitted_at DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE confirmations (
                session_id TEXT PRIMARY KEY REFERENCES sessions (id),
                rating INTEGER NOT NULL,
                comment TEXT NOT NULL,
                confirmed_by TEXT NOT NULL,
                confirmed_at DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE analysis_jobs (
                session_id TEXT PRIMARY KEY REFERENCES sessions (id),
                queued_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX analysis_jobs_by_age ON analysis_jobs (queued_at)",
            """
            CREATE TABLE analyses (
                session_id TEXT PRIMARY KEY REFERENCES sessions (id),
                body TEXT NOT NULL,
                analyzed_at DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE payouts (
                id TEXT PRIMARY KEY,
                org TEXT NOT NULL,
                session_id TEXT NOT NULL UNIQUE REFERENCES sessions (id),
                tester_id TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                delivered_at DOUBLE PRECISION,
                attempts INTEGER NOT NULL,
                next_attempt_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX payouts_due ON payouts (status, next_attempt_at)",
            "CREATE INDEX payouts_by_org ON payouts (org, created_at, id)",
            """
            CREATE TABLE idempotency_keys (
                org TEXT NOT NULL,
                key TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                reply BYTEA NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (org, key)
            )
            """,
            "CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at)",
        ],
        // 2: work queues with leases (attempts, next attempt or lease expiry, owner, last error),
        // and the local payout ledger, one row per idempotency key.
        [
            "ALTER TABLE analysis_jobs ADD COLUMN status TEXT NOT NULL DEFAULT 'queued'",
            "ALTER TABLE analysis_jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE analysis_jobs ADD COLUMN next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0",
            "ALTER TABLE analysis_jobs ADD COLUMN lease_owner TEXT",
            "ALTER TABLE analysis_jobs ADD COLUMN last_error TEXT",
            "UPDATE analysis_jobs SET next_attempt_at = queued_at",
            "CREATE INDEX analysis_jobs_due ON analysis_jobs (status, next_attempt_at)",
            "ALTER TABLE payouts ADD COLUMN lease_owner TEXT",
            "ALTER TABLE payouts ADD COLUMN last_error TEXT",
            """
            CREATE TABLE payout_deliveries (
                idempotency_key TEXT PRIMARY KEY,
                org TEXT NOT NULL,
                session_id TEXT NOT NULL,
                tester_id TEXT NOT NULL,
                recorded_by TEXT NOT NULL,
                recorded_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX payout_deliveries_by_time ON payout_deliveries (recorded_at, idempotency_key)",
        ],
    ]

    /// One migration as one statement: a `DO` block runs its statements and records its version
    /// atomically (a statement is its own transaction), in one round trip instead of one per
    /// statement. On a loaded machine each round trip waits for a turn on both sides, and
    /// start-up's time bound covers them all.
    static func block(version: Int, _ statements: [String]) -> String {
        precondition(statements.allSatisfy { !$0.contains("$migration$") }, "a migration must not close its block")
        return "DO $migration$ BEGIN\n" + statements.map { $0 + ";\n" }.joined()
            + "INSERT INTO schema_migrations (version) VALUES (\(version));\nEND $migration$"
    }

    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withConnection { connection in
            _ = try await connection.query("SELECT pg_advisory_lock(\(Self.migrationLock))", logger: logger)
            do {
                _ = try await connection.query(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)", logger: logger)
                var applied = 0
                for try await version in try await connection.query(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", logger: logger
                ).decode(Int.self) {
                    applied = version
                }
                try SchemaVersion.check(applied: applied, known: self.migrations.count)
                for (index, statements) in self.migrations.enumerated() where index + 1 > applied {
                    _ = try await connection.query(
                        PostgresQuery(unsafeSQL: Self.block(version: index + 1, statements)), logger: logger)
                }
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLock))", logger: logger)
                throw error
            }
            _ = try await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLock))", logger: logger)
        }
    }
}
