import ServiceErrors
import SessionCore

/// The store's schema as numbered, append-only migrations, applied at start-up.
enum SQLiteSchema {
    static let migrations: [String] = [
        // 1: sessions and everything attached to them.
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            org TEXT NOT NULL,
            job_id TEXT NOT NULL,
            tester_id TEXT NOT NULL,
            variant TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            started_at REAL NOT NULL,
            completed_at REAL,
            paused_at REAL,
            active_seconds REAL NOT NULL,
            resumed_at REAL NOT NULL,
            analyzed_at REAL,
            confirmed_at REAL,
            last_analysis_error TEXT,
            updated_at REAL NOT NULL,
            version INTEGER NOT NULL,
            UNIQUE (org, job_id, tester_id)
        );
        CREATE INDEX sessions_by_org ON sessions (org, created_at, id);
        CREATE INDEX sessions_by_job ON sessions (org, job_id, created_at, id);
        CREATE INDEX sessions_by_tester ON sessions (org, tester_id, created_at, id);
        CREATE INDEX sessions_by_status ON sessions (org, status, created_at, id);
        CREATE TABLE notes (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions (id),
            content TEXT NOT NULL,
            author_id TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            sequence INTEGER NOT NULL
        );
        CREATE INDEX notes_by_session ON notes (session_id, sequence);
        CREATE TABLE feedback (
            session_id TEXT PRIMARY KEY REFERENCES sessions (id),
            id TEXT NOT NULL UNIQUE,
            clarity INTEGER NOT NULL,
            difficulty INTEGER NOT NULL,
            technical_issues INTEGER NOT NULL,
            comment TEXT NOT NULL,
            submitted_at REAL NOT NULL
        );
        CREATE TABLE confirmations (
            session_id TEXT PRIMARY KEY REFERENCES sessions (id),
            rating INTEGER NOT NULL,
            comment TEXT NOT NULL,
            confirmed_by TEXT NOT NULL,
            confirmed_at REAL NOT NULL
        );
        CREATE TABLE analysis_jobs (
            session_id TEXT PRIMARY KEY REFERENCES sessions (id),
            queued_at REAL NOT NULL
        );
        CREATE INDEX analysis_jobs_by_age ON analysis_jobs (queued_at);
        CREATE TABLE analyses (
            session_id TEXT PRIMARY KEY REFERENCES sessions (id),
            body TEXT NOT NULL,
            analyzed_at REAL NOT NULL
        );
        CREATE TABLE payouts (
            id TEXT PRIMARY KEY,
            org TEXT NOT NULL,
            session_id TEXT NOT NULL UNIQUE REFERENCES sessions (id),
            tester_id TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            delivered_at REAL,
            attempts INTEGER NOT NULL,
            next_attempt_at REAL NOT NULL
        );
        CREATE INDEX payouts_due ON payouts (status, next_attempt_at);
        CREATE INDEX payouts_by_org ON payouts (org, created_at, id);
        CREATE TABLE idempotency_keys (
            org TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            reply BLOB NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (org, key)
        );
        CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
        """,
        // 2: work queues with leases (attempts, next attempt or lease expiry, owner, last error),
        // and the local payout ledger, one row per idempotency key.
        """
        ALTER TABLE analysis_jobs ADD COLUMN status TEXT NOT NULL DEFAULT 'queued';
        ALTER TABLE analysis_jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE analysis_jobs ADD COLUMN next_attempt_at REAL NOT NULL DEFAULT 0;
        ALTER TABLE analysis_jobs ADD COLUMN lease_owner TEXT;
        ALTER TABLE analysis_jobs ADD COLUMN last_error TEXT;
        UPDATE analysis_jobs SET next_attempt_at = queued_at;
        CREATE INDEX analysis_jobs_due ON analysis_jobs (status, next_attempt_at);
        ALTER TABLE payouts ADD COLUMN lease_owner TEXT;
        ALTER TABLE payouts ADD COLUMN last_error TEXT;
        CREATE TABLE payout_deliveries (
            idempotency_key TEXT PRIMARY KEY,
            org TEXT NOT NULL,
            session_id TEXT NOT NULL,
            tester_id TEXT NOT NULL,
            recorded_by TEXT NOT NULL,
            recorded_at REAL NOT NULL
        );
        CREATE INDEX payout_deliveries_by_time ON payout_deliveries (recorded_at, idempotency_key);
        """,
        // 3: sessions rebuilt for cheaper inserts (issue 20), 7 B-trees touched per insert → 6:
        // the table is keyed by its ID (WITHOUT ROWID: no separate rowid tree beside the ID's
        // index); IDs are time-ordered, so the table grows at its end. Uniqueness of (org, job,
        // tester) moves to a named index, so queries can name it.
        """
        CREATE TABLE sessions_v3 (
            id TEXT PRIMARY KEY,
            org TEXT NOT NULL,
            job_id TEXT NOT NULL,
            tester_id TEXT NOT NULL,
            variant TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            started_at REAL NOT NULL,
            completed_at REAL,
            paused_at REAL,
            active_seconds REAL NOT NULL,
            resumed_at REAL NOT NULL,
            analyzed_at REAL,
            confirmed_at REAL,
            last_analysis_error TEXT,
            updated_at REAL NOT NULL,
            version INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO sessions_v3 SELECT id, org, job_id, tester_id, variant, status, created_at, started_at,
            completed_at, paused_at, active_seconds, resumed_at, analyzed_at, confirmed_at, last_analysis_error,
            updated_at, version FROM sessions;
        DROP TABLE sessions;
        ALTER TABLE sessions_v3 RENAME TO sessions;
        CREATE UNIQUE INDEX sessions_by_job_tester ON sessions (org, job_id, tester_id);
        CREATE INDEX sessions_by_org ON sessions (org, created_at, id);
        CREATE INDEX sessions_by_job ON sessions (org, job_id, created_at, id);
        CREATE INDEX sessions_by_tester ON sessions (org, tester_id, created_at, id);
        CREATE INDEX sessions_by_status ON sessions (org, status, created_at, id);
        """,
    ]

    /// Brings the database up to the newest migration in one write transaction, which reads the
    /// applied version too: a second process opening the file meanwhile waits, then finds nothing
    /// to do. A schema newer than this binary knows is refused (`failedPrecondition`).
    ///
    /// Foreign keys are off while migrations run, as SQLite's table rebuilds need (dropping a
    /// referenced table), and checked before the COMMIT; the connection has them on afterwards.
    static func migrate(_ connection: SQLiteConnection) throws(ServiceError) {
        try connection.execute("PRAGMA foreign_keys = OFF")
        try connection.execute("BEGIN IMMEDIATE")
        do throws(ServiceError) {
            try connection.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
            var applied = 0
            try connection.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") { row in
                applied = Int(row.integer(0))
            }
            try SchemaVersion.check(applied: applied, known: self.migrations.count)
            for (index, migration) in self.migrations.enumerated() where index + 1 > applied {
                try connection.execute(migration)
                try connection.query("INSERT INTO schema_migrations (version) VALUES (?)", [.integer(Int64(index + 1))])
            }
            if applied < self.migrations.count {
                var dangling: [String] = []
                try connection.query("PRAGMA foreign_key_check") { row in dangling.append(row.text(0)) }
                guard dangling.isEmpty else {
                    throw ServiceError(.dataLoss, "the migration left rows referring to missing ones in \(Set(dangling).sorted())")
                }
            }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            try? connection.execute("PRAGMA foreign_keys = ON")
            throw error
        }
        try connection.execute("PRAGMA foreign_keys = ON")
    }
}
