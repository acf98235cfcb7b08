import Foundation
import Logging
import NIOSSL
import PostgresNIO
import ServiceErrors
import SessionCore

/// The shared store for several instances: PostgreSQL through PostgresNIO's connection pool,
/// with the same schema and semantics as the SQLite store. Each change set is one transaction;
/// the database's constraints enforce uniqueness, and version checks catch lost updates.
package final class PostgresSessionStore: SessionStore {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    /// Connects to `url` (`postgres://user:password@host:port/database`, with libpq's `sslmode`
    /// and `sslrootcert` as query parameters), runs the pool and migrates the schema.
    ///
    /// The pool retries a connection that fails (wrong address, refused TLS) for as long as
    /// someone waits, so start-up gives up after `timeout` with UNAVAILABLE instead of hanging.
    package static func connect(url: String, logger: Logger, timeout: Duration = .seconds(30)) async throws
        -> PostgresSessionStore
    {
        let configuration = try Self.configuration(url)
        let store = PostgresSessionStore(client: PostgresClient(configuration: configuration), logger: logger)
        do {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await PostgresSchema.migrate(store.client, logger: logger)
                    return true
                }
                group.addTask {
                    // The pool retries on its own; say so every few seconds while start-up waits.
                    let clock = ContinuousClock()
                    let deadline = clock.now + timeout
                    var attempt = 0
                    while clock.now < deadline {
                        try await Task.sleep(for: min(.seconds(5), deadline - clock.now))
                        attempt += 1
                        guard clock.now < deadline else { break }
                        logger.warning(
                            "PostgreSQL not reached yet; retrying",
                            metadata: [
                                "host": "\(configuration.host ?? "?"):\(configuration.port.map { String($0) } ?? "?")",
                                "waited_seconds": "\(attempt * 5)", "timeout": "\(timeout)",
                            ]
                        )
                    }
                    return false
                }
                let migrated = try await group.next() ?? false
                group.cancelAll()
                guard migrated else {
                    throw ServiceError(
                        .unavailable,
                        "cannot reach PostgreSQL at \(configuration.host ?? "?"):\(configuration.port.map { String($0) } ?? "?") within \(timeout)"
                    )
                }
            }
        } catch {
            store.close()
            throw Self.serviceError(error)
        }
        return store
    }

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        self.runner = Task { await client.run() }
    }

    /// Stops the connection pool.
    package func close() {
        self.runner.cancel()
    }

    deinit {
        self.runner.cancel()
    }

    static func configuration(_ url: String) throws(ServiceError) -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), components.scheme == "postgres" || components.scheme == "postgresql",
            let host = components.host, let user = components.user
        else {
            throw ServiceError.invalidField("databaseUrl", "must look like postgres://user:password@host:port/database")
        }
        let database = String(components.path.drop { $0 == "/" })
        var parameters: [String: String] = [:]
        for item in components.queryItems ?? [] { parameters[item.name] = item.value ?? "" }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user,
            password: components.password,
            database: database.isEmpty ? user : database,
            tls: try Self.tls(mode: parameters["sslmode"] ?? "prefer", rootCertificate: parameters["sslrootcert"])
        )
        configuration.options.maximumConnections = 16
        return configuration
    }

    /// TLS as libpq's `sslmode` means it (PostgreSQL docs, "SSL Mode Descriptions"): `disable`;
    /// `prefer` (the default: TLS when the server offers it, unverified); `require` (TLS,
    /// unverified unless `sslrootcert` is given, then as `verify-ca`); `verify-ca` (the chain
    /// must lead to `sslrootcert`, or the system's roots); `verify-full` (and the certificate
    /// must name the host). `allow` (plaintext first) has no equivalent here and is refused.
    static func tls(mode: String, rootCertificate: String?) throws(ServiceError) -> PostgresClient.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate {
            guard FileManager.default.isReadableFile(atPath: rootCertificate) else {
                throw ServiceError.invalidField("databaseUrl", "sslrootcert '\(rootCertificate)' is not a readable file")
            }
            tls.trustRoots = .file(rootCertificate)
        }
        switch mode {
        case "disable":
            return .disable
        case "prefer":
            tls.certificateVerification = .none
            return .prefer(tls)
        case "require":
            tls.certificateVerification = rootCertificate == nil ? .none : .noHostnameVerification
            return .require(tls)
        case "verify-ca":
            tls.certificateVerification = .noHostnameVerification
            return .require(tls)
        case "verify-full":
            tls.certificateVerification = .fullVerification
            return .require(tls)
        default:
            throw ServiceError.invalidField(
                "databaseUrl", "sslmode must be disable, prefer, require, verify-ca or verify-full, not '\(mode)'"
            )
        }
    }

    /// PostgreSQL errors in the one error model: unique violations are `alreadyExists`, foreign
    /// keys `notFound`, serialization failures `aborted`, anything on the way `unavailable`.
    static func serviceError(_ error: any Error) -> ServiceError {
        if let error = error as? ServiceError { return error }
        if let psql = error as? PSQLError {
            switch psql.serverInfo?[.sqlState] {
            case "23505": return ServiceError(.alreadyExists, "already exists", cause: error)
            case "23503": return ServiceError(.notFound, "a referenced record does not exist", cause: error)
            case "40001", "40P01": return ServiceError(.aborted, "a concurrent transaction won; retry", cause: error)
            case .some(let state): return ServiceError(.internal, "database error \(state)", cause: error)
            case .none: return ServiceError(.unavailable, "the database is unavailable", cause: error)
            }
        }
        if error is CancellationError { return ServiceError(.cancelled, "the request was cancelled", cause: error) }
        return ServiceError(.unavailable, "the database is unavailable", cause: error)
    }

    // MARK: Changes from every instance

    /// The `LISTEN/NOTIFY` channel that carries `sessionID:version` for every committed change.
    static let changeChannel = "session_changes"

    /// Calls `onChange` for every session change any instance commits, until cancelled. The
    /// listening connection is re-established when it drops (backing off up to 5 s), and
    /// `onReconnect` runs whenever listening (re)starts, since changes may have been missed.
    package func watchChanges(
        onChange: @escaping @Sendable (_ sessionID: String, _ version: Int64) async -> Void,
        onReconnect: @escaping @Sendable () async -> Void
    ) async {
        var delay: Duration = .milliseconds(250)
        while !Task.isCancelled {
            do {
                try await self.client.withConnection { connection in
                    try await connection.listen(on: Self.changeChannel) { notifications in
                        delay = .milliseconds(250)
                        await onReconnect()
                        for try await notification in notifications {
                            let parts = notification.payload.split(separator: ":")
                            guard parts.count == 2, let version = Int64(parts[1]) else { continue }
                            await onChange(String(parts[0]), version)
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                self.logger.warning("session change notifications interrupted; listening again",
                    metadata: ["error": "\(Self.serviceError(error))", "retry_in": "\(delay)"])
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }

    // MARK: Writes

    package func commit(_ changes: ChangeSet) async throws {
        do {
            try await self.client.withConnection { connection in
                _ = try await connection.query("BEGIN", logger: self.logger)
                do {
                    for change in changes.changes {
                        try await self.apply(change, connection)
                    }
                    // Every instance's watchers hear of the change: NOTIFY is delivered on commit.
                    for change in changes.changes {
                        switch change {
                        case .insertSession(let session), .updateSession(let session):
                            let payload = "\(session.id):\(session.version)"
                            _ = try await connection.query(
                                "SELECT pg_notify(\(Self.changeChannel), \(payload))", logger: self.logger
                            )
                        default:
                            continue
                        }
                    }
                    _ = try await connection.query("COMMIT", logger: self.logger)
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: self.logger)
                    throw error
                }
            }
        } catch {
            throw Self.serviceError(error)
        }
    }

    private func apply(_ change: ChangeSet.Change, _ connection: PostgresConnection) async throws {
        let logger = self.logger
        switch change {
        case .insertSession(let s):
            _ = try await connection.query("""
                INSERT INTO sessions (id, org, job_id, tester_id, variant, status, created_at, started_at, completed_at,
                    paused_at, active_seconds, resumed_at, analyzed_at, confirmed_at, last_analysis_error, updated_at, version)
                VALUES (\(s.id), \(s.org), \(s.jobID), \(s.testerID), \(s.variant.rawValue), \(s.status.rawValue),
                    \(s.createdAt.seconds), \(s.startedAt.seconds), \(s.completedAt?.seconds), \(s.pausedAt?.seconds),
                    \(s.activeSeconds), \(s.resumedAt.seconds), \(s.analyzedAt?.seconds), \(s.confirmedAt?.seconds),
                    \(s.lastAnalysisError), \(s.updatedAt.seconds), \(s.version))
                """, logger: logger)
        case .updateSession(let s):
            let rows = try await connection.query("""
                UPDATE sessions SET variant = \(s.variant.rawValue), status = \(s.status.rawValue),
                    created_at = \(s.createdAt.seconds), started_at = \(s.startedAt.seconds),
                    completed_at = \(s.completedAt?.seconds), paused_at = \(s.pausedAt?.seconds),
                    active_seconds = \(s.activeSeconds), resumed_at = \(s.resumedAt.seconds),
                    analyzed_at = \(s.analyzedAt?.seconds), confirmed_at = \(s.confirmedAt?.seconds),
                    last_analysis_error = \(s.lastAnalysisError), updated_at = \(s.updatedAt.seconds), version = \(s.version)
                WHERE id = \(s.id) AND version = \(s.version - 1)
                RETURNING id
                """, logger: logger)
            guard try await Self.count(rows) == 1 else {
                throw ServiceError(.aborted, "session \(s.id) was changed concurrently; retry")
            }
        case .insertNote(let n):
            _ = try await connection.query("""
                INSERT INTO notes (id, session_id, content, author_id, created_at, updated_at, sequence)
                VALUES (\(n.id), \(n.sessionID), \(n.content), \(n.authorID), \(n.createdAt.seconds), \(n.updatedAt.seconds), \(n.sequence))
                """, logger: logger)
        case .updateNote(let n):
            let rows = try await connection.query("""
                UPDATE notes SET content = \(n.content), updated_at = \(n.updatedAt.seconds)
                WHERE id = \(n.id) AND session_id = \(n.sessionID) RETURNING id
                """, logger: logger)
            guard try await Self.count(rows) == 1 else {
                throw ServiceError(.notFound, "note \(n.id) not found in session \(n.sessionID)")
            }
        case .insertFeedback(let f):
            _ = try await connection.query("""
                INSERT INTO feedback (session_id, id, clarity, difficulty, technical_issues, comment, submitted_at)
                VALUES (\(f.sessionID), \(f.id), \(f.clarity), \(f.difficulty), \(f.technicalIssues), \(f.comment), \(f.submittedAt.seconds))
                """, logger: logger)
        case .insertConfirmation(let c):
            _ = try await connection.query("""
                INSERT INTO confirmations (session_id, rating, comment, confirmed_by, confirmed_at)
                VALUES (\(c.sessionID), \(c.rating), \(c.comment), \(c.confirmedBy), \(c.confirmedAt.seconds))
                """, logger: logger)
        case .enqueueAnalysis(let job):
            _ = try await connection.query("""
                INSERT INTO analysis_jobs (\(unescaped: Self.analysisJobColumns))
                VALUES (\(job.sessionID), \(job.queuedAt.seconds), \(job.status.rawValue), \(job.attempts),
                    \(job.nextAttemptAt.seconds), \(job.leaseOwner), \(job.lastError))
                ON CONFLICT (session_id) DO UPDATE SET queued_at = EXCLUDED.queued_at, status = EXCLUDED.status,
                    attempts = EXCLUDED.attempts, next_attempt_at = EXCLUDED.next_attempt_at,
                    lease_owner = EXCLUDED.lease_owner, last_error = EXCLUDED.last_error
                """, logger: logger)
        case .saveAnalysis(let analysis):
            let body = try analysis.storedJSON()
            _ = try await connection.query("""
                INSERT INTO analyses (session_id, body, analyzed_at) VALUES (\(analysis.sessionID), \(body), \(analysis.analyzedAt.seconds))
                ON CONFLICT (session_id) DO UPDATE SET body = EXCLUDED.body, analyzed_at = EXCLUDED.analyzed_at
                """, logger: logger)
        case .finishAnalysisJob(let sessionID, let lease, let outcome):
            let rows: PostgresRowSequence
            if case .done = outcome {
                rows = try await connection.query("""
                    DELETE FROM analysis_jobs
                    WHERE session_id = \(sessionID) AND status = 'claimed' AND lease_owner = \(lease.owner) AND attempts = \(lease.attempt)
                    RETURNING session_id
                    """, logger: logger)
            } else {
                let values = outcome.recorded(done: "done")
                rows = try await connection.query("""
                    UPDATE analysis_jobs SET status = \(values.status),
                        next_attempt_at = COALESCE(\(values.retryAt?.seconds), next_attempt_at), last_error = \(values.error)
                    WHERE session_id = \(sessionID) AND status = 'claimed' AND lease_owner = \(lease.owner) AND attempts = \(lease.attempt)
                    RETURNING session_id
                    """, logger: logger)
            }
            guard try await Self.count(rows) == 1 else { throw Self.leaseLost("analysis job of session \(sessionID)", lease) }
        case .insertPayout(let p):
            _ = try await connection.query("""
                INSERT INTO payouts (\(unescaped: Self.payoutColumns))
                VALUES (\(p.id), \(p.org), \(p.sessionID), \(p.testerID), \(p.status.rawValue), \(p.createdAt.seconds),
                    \(p.deliveredAt?.seconds), \(p.attempts), \(p.nextAttemptAt.seconds), \(p.leaseOwner), \(p.lastError))
                """, logger: logger)
        case .finishPayout(let id, let lease, let outcome):
            let values = outcome.recorded(done: Payout.Status.delivered.rawValue)
            let rows = try await connection.query("""
                UPDATE payouts SET status = \(values.status), delivered_at = \(values.doneAt?.seconds),
                    next_attempt_at = COALESCE(\(values.retryAt?.seconds), next_attempt_at), last_error = \(values.error)
                WHERE id = \(id) AND status = 'claimed' AND lease_owner = \(lease.owner) AND attempts = \(lease.attempt)
                RETURNING id
                """, logger: logger)
            guard try await Self.count(rows) == 1 else { throw Self.leaseLost("payout \(id)", lease) }
        case .recordPayoutDelivery(let d):
            _ = try await connection.query("""
                INSERT INTO payout_deliveries (\(unescaped: Self.deliveryColumns))
                VALUES (\(d.idempotencyKey), \(d.org), \(d.sessionID), \(d.testerID), \(d.recordedBy), \(d.recordedAt.seconds))
                """, logger: logger)
        case .insertIdempotencyRecord(let r):
            _ = try await connection.query("""
                INSERT INTO idempotency_keys (org, key, fingerprint, reply, created_at)
                VALUES (\(r.org), \(r.key), \(r.fingerprint), \(ByteBuffer(bytes: r.reply)), \(r.createdAt.seconds))
                """, logger: logger)
        case .completeIdempotencyRecord(let org, let key, let reply):
            _ = try await connection.query(
                "UPDATE idempotency_keys SET reply = \(ByteBuffer(bytes: reply)) WHERE org = \(org) AND key = \(key)",
                logger: logger
            )
        case .pruneIdempotencyRecords(let cutoff):
            _ = try await connection.query("DELETE FROM idempotency_keys WHERE created_at < \(cutoff.seconds)", logger: logger)
        }
    }

    static func leaseLost(_ job: String, _ lease: JobLease) -> ServiceError {
        ServiceError(.aborted, "\(job) is no longer claimed by \(lease.owner) for attempt \(lease.attempt)")
    }

    private static func count(_ rows: PostgresRowSequence) async throws -> Int {
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }
}

extension Date {
    /// Times are stored as IEEE doubles of Unix seconds, exactly as the SQLite store does, so
    /// list cursors compare bit for bit on both backends.
    var seconds: Double { self.timeIntervalSince1970 }

    init(seconds: Double) {
        self.init(timeIntervalSince1970: seconds)
    }
}
