import Foundation
import ServiceErrors
import SessionCore
import NIOConcurrencyHelpers

/// The embedded store: one SQLite file in WAL mode with `synchronous = FULL`, so a commit is on
/// disk before it is acknowledged.
///
/// Writes go to one writer thread, which applies every change set queued while it was busy in a
/// single transaction (group commit: one fsync for the batch); when one of them fails, the batch
/// is applied again with savepoints so that one alone is refused (`flushBatch`). The writer's WAL
/// writes are gathered by the CSQLiteWAL VFS. Reads run on a reader thread (WAL readers never
/// block the writer). Sessions are also kept in a read-through cache the writer updates after
/// each commit, so hot reads do no I/O.
package final class SQLiteSessionStore: SessionStore {
    private let writer: DatabaseThread
    private let reader: DatabaseThread
    private let cache = SessionCache(limit: 200_000)
    /// Change sets committed per transaction, for the benchmark and tests.
    package let batchSizes = NIOLockedValueBox<[Int]>([])

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    package init(path: String) throws(ServiceError) {
        let writeConnection = try SQLiteConnection(path: path, gatherWAL: true)
        try writeConnection.execute("PRAGMA journal_mode = WAL")
        try writeConnection.execute("PRAGMA synchronous = FULL")
        // A batch retried with a SAVEPOINT per change set keeps their undo pages in a statement
        // journal; on disk, that journal spilled to a temporary file and nearly doubled the
        // writes per commit. In memory it holds at most the pages of one batch.
        try writeConnection.execute("PRAGMA temp_store = MEMORY")
        // Checkpoint every 16,000 WAL pages (64 MiB) instead of SQLite's 1,000: a checkpoint
        // copies each page once however often it was committed, and the hot pages of the
        // indexes are committed by nearly every batch. Creates at 64 callers: 12,000 → 15,000/s,
        // WAL reads per create halved (tools/bench/RESULTS.md).
        // The checkpoint runs in the COMMIT of the batch that crosses the mark: that batch waits
        // for it (tens of ms). After a checkpoint the WAL is cut back to 64 MiB should it have
        // grown past (a long read holding old frames).
        try writeConnection.execute("PRAGMA wal_autocheckpoint = 16000")
        try writeConnection.execute("PRAGMA journal_size_limit = 67108864")
        // 16 MiB of page cache for the writer (SQLite's default is 2 MiB): the hot pages of the
        // indexes a batch writes stay cached instead of being read back from the WAL.
        try writeConnection.execute("PRAGMA cache_size = -16384")
        try SQLiteSchema.migrate(writeConnection)  // leaves foreign keys on
        let readConnection = try SQLiteConnection(path: path)
        try readConnection.execute("PRAGMA foreign_keys = ON")
        self.writer = DatabaseThread(name: "sqlite-writer", connection: writeConnection)
        self.reader = DatabaseThread(name: "sqlite-reader", connection: readConnection)
    }

    deinit {
        self.writer.stop()
        self.reader.stop()
    }

    // MARK: Writes

    package func commit(_ changes: ChangeSet) async throws {
        let result: Result<Void, ServiceError> = await withCheckedContinuation { continuation in
            self.writer.submit { connection in
                self.enqueue(changes, continuation, connection)
            }
        }
        try result.get()
    }

    private struct Pending {
        var changes: ChangeSet
        var continuation: CheckedContinuation<Result<Void, ServiceError>, Never>
        var result: Result<Void, ServiceError> = .success(())
    }

    /// Pending change sets of the current batch; touched only on the writer thread.
    private nonisolated(unsafe) var batch: [Pending] = []

    /// Called on the writer thread once per change set. The thread runs every job it found
    /// queued before looking again, so the last job of a run commits the whole batch.
    private func enqueue(
        _ changes: ChangeSet,
        _ continuation: CheckedContinuation<Result<Void, ServiceError>, Never>,
        _ connection: SQLiteConnection
    ) {
        self.batch.append(Pending(changes: changes, continuation: continuation))
        self.writer.afterCurrentRun { [self] in self.flushBatch(connection) }
    }

    private func flushBatch(_ connection: SQLiteConnection) {
        var pending = self.batch
        self.batch = []
        guard !pending.isEmpty else { return }
        do throws(ServiceError) {
            // Transaction control goes through `query`, prepared once (`execute` parses its SQL
            // on every call).
            try connection.query("BEGIN IMMEDIATE")
            if let (failed, error) = try self.applyAll(pending[...], connection) {
                // Change set `failed` left part of itself in the transaction: start over, apply
                // the ones before it again (they succeeded on this same state), refuse it, and
                // give each one after it a SAVEPOINT of its own so a failing one rolls back alone.
                try connection.query("ROLLBACK")
                try connection.query("BEGIN IMMEDIATE")
                if let (_, again) = try self.applyAll(pending[..<failed], connection) { throw again }
                pending[failed].result = .failure(error)
                try self.applyEach(&pending[(failed + 1)...], connection)
            }
            try connection.query("COMMIT")
        } catch {
            if connection.inTransaction { try? connection.query("ROLLBACK") }
            for item in pending { item.continuation.resume(returning: .failure(error)) }
            return
        }
        // Durable now: publish to the cache, then acknowledge.
        for item in pending {
            if case .success = item.result { self.updateCache(item.changes) }
        }
        self.batchSizes.withLockedValue { sizes in
            sizes.append(pending.count)
            if sizes.count > 10_000 { sizes.removeFirst(5_000) }
        }
        for item in pending { item.continuation.resume(returning: item.result) }
    }

    /// Applies change sets without savepoints: nearly every batch succeeds whole, and a SAVEPOINT
    /// per change set copied each page it touched that the batch had already dirtied (the hot
    /// index pages) into the statement journal, the undo log needed only when one fails. Returns
    /// the first failing change set and its error; throws when the failure ended the transaction
    /// (a full disk, an I/O error: SQLite rolled all of it back), which fails the whole batch.
    private func applyAll(_ pending: ArraySlice<Pending>, _ connection: SQLiteConnection)
        throws(ServiceError) -> (Int, ServiceError)?
    {
        for index in pending.indices {
            do {
                try self.apply(pending[index].changes, connection)
            } catch {
                guard connection.inTransaction else { throw error }
                return (index, error)
            }
        }
        return nil
    }

    /// Applies each change set in a SAVEPOINT of its own, recording each one's result. Throws, to
    /// fail the whole batch, when a failure ended the transaction or could not be rolled back:
    /// going on would start and commit transactions of its own (SAVEPOINT outside a transaction
    /// begins one), or keep half a change set.
    private func applyEach(_ pending: inout ArraySlice<Pending>, _ connection: SQLiteConnection) throws(ServiceError) {
        for index in pending.indices {
            try connection.query("SAVEPOINT change_set")
            do {
                try self.apply(pending[index].changes, connection)
                try connection.query("RELEASE change_set")
            } catch {
                guard connection.inTransaction else { throw error }
                try connection.query("ROLLBACK TO change_set")
                try connection.query("RELEASE change_set")
                pending[index].result = .failure(error)
            }
        }
    }

    /// Runs `body` on the writer thread between batches (tests: settings of the writer's connection).
    func onWriter(_ body: @escaping @Sendable (SQLiteConnection) throws -> Void) async throws {
        try await self.writer.run(body)
    }

    private func updateCache(_ changes: ChangeSet) {
        for change in changes.changes {
            switch change {
            case .insertSession(let session), .updateSession(let session):
                self.cache.store(session)
            default:
                break
            }
        }
    }

    private func apply(_ changes: ChangeSet, _ connection: SQLiteConnection) throws(ServiceError) {
        for change in changes.changes {
            switch change {
            case .insertSession(let session):
                try connection.query(SessionRows.insert, SessionRows.insertValues(session))
            case .updateSession(let session):
                try connection.query(
                    """
                    UPDATE sessions SET variant = ?, status = ?, created_at = ?, started_at = ?, completed_at = ?,
                        paused_at = ?, active_seconds = ?, resumed_at = ?, analyzed_at = ?, confirmed_at = ?,
                        last_analysis_error = ?, updated_at = ?, version = ?
                    WHERE id = ? AND version = ?
                    """,
                    SessionRows.mutableValues(session) + [.text(session.id), .integer(session.version - 1)]
                )
                guard connection.changes == 1 else {
                    throw ServiceError(.aborted, "session \(session.id) was changed concurrently; retry")
                }
            case .insertNote(let note):
                try connection.query(
                    "INSERT INTO notes (id, session_id, content, author_id, created_at, updated_at, sequence) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [.text(note.id), .text(note.sessionID), .text(note.content), .text(note.authorID),
                     .date(note.createdAt), .date(note.updatedAt), .integer(note.sequence)]
                )
            case .updateNote(let note):
                try connection.query(
                    "UPDATE notes SET content = ?, updated_at = ? WHERE id = ? AND session_id = ?",
                    [.text(note.content), .date(note.updatedAt), .text(note.id), .text(note.sessionID)]
                )
                guard connection.changes == 1 else {
                    throw ServiceError(.notFound, "note \(note.id) not found in session \(note.sessionID)")
                }
            case .insertFeedback(let feedback):
                try connection.query(
                    "INSERT INTO feedback (session_id, id, clarity, difficulty, technical_issues, comment, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [.text(feedback.sessionID), .text(feedback.id), .integer(Int64(feedback.clarity)),
                     .integer(Int64(feedback.difficulty)), .integer(feedback.technicalIssues ? 1 : 0),
                     .text(feedback.comment), .date(feedback.submittedAt)]
                )
            case .insertConfirmation(let confirmation):
                try connection.query(
                    "INSERT INTO confirmations (session_id, rating, comment, confirmed_by, confirmed_at) VALUES (?, ?, ?, ?, ?)",
                    [.text(confirmation.sessionID), .integer(Int64(confirmation.rating)), .text(confirmation.comment),
                     .text(confirmation.confirmedBy), .date(confirmation.confirmedAt)]
                )
            case .enqueueAnalysis(let job):
                try connection.query(
                    """
                    INSERT OR REPLACE INTO analysis_jobs (\(SessionRows.analysisJobColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(job.sessionID), .date(job.queuedAt), .text(job.status.rawValue), .integer(Int64(job.attempts)),
                     .date(job.nextAttemptAt), .text(job.leaseOwner), .text(job.lastError)]
                )
            case .saveAnalysis(let analysis):
                let body = try analysis.storedJSON()
                try connection.query(
                    "INSERT OR REPLACE INTO analyses (session_id, body, analyzed_at) VALUES (?, ?, ?)",
                    [.text(analysis.sessionID), .text(body), .date(analysis.analyzedAt)]
                )
            case .finishAnalysisJob(let sessionID, let lease, let outcome):
                let held: [SQLiteValue] = [.text(sessionID), .text(lease.owner), .integer(Int64(lease.attempt))]
                if case .done = outcome {
                    try connection.query(
                        "DELETE FROM analysis_jobs WHERE session_id = ? AND status = 'claimed' AND lease_owner = ? AND attempts = ?",
                        held)
                } else {
                    let values = outcome.recorded(done: "done")
                    try connection.query(
                        """
                        UPDATE analysis_jobs SET status = ?, next_attempt_at = COALESCE(?, next_attempt_at), last_error = ?
                        WHERE session_id = ? AND status = 'claimed' AND lease_owner = ? AND attempts = ?
                        """,
                        [.text(values.status), .date(values.retryAt), .text(values.error)] + held)
                }
                guard connection.changes == 1 else { throw Self.leaseLost("analysis job of session \(sessionID)", lease) }
            case .insertPayout(let payout):
                try connection.query(
                    """
                    INSERT INTO payouts (\(SessionRows.payoutColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(payout.id), .text(payout.org), .text(payout.sessionID), .text(payout.testerID),
                     .text(payout.status.rawValue), .date(payout.createdAt), .date(payout.deliveredAt),
                     .integer(Int64(payout.attempts)), .date(payout.nextAttemptAt), .text(payout.leaseOwner),
                     .text(payout.lastError)]
                )
            case .finishPayout(let id, let lease, let outcome):
                let values = outcome.recorded(done: Payout.Status.delivered.rawValue)
                try connection.query(
                    """
                    UPDATE payouts SET status = ?, delivered_at = ?, next_attempt_at = COALESCE(?, next_attempt_at),
                        last_error = ?
                    WHERE id = ? AND status = 'claimed' AND lease_owner = ? AND attempts = ?
                    """,
                    [.text(values.status), .date(values.doneAt), .date(values.retryAt), .text(values.error), .text(id),
                     .text(lease.owner), .integer(Int64(lease.attempt))]
                )
                guard connection.changes == 1 else { throw Self.leaseLost("payout \(id)", lease) }
            case .recordPayoutDelivery(let delivery):
                try connection.query(
                    "INSERT INTO payout_deliveries (\(SessionRows.deliveryColumns)) VALUES (?, ?, ?, ?, ?, ?)",
                    [.text(delivery.idempotencyKey), .text(delivery.org), .text(delivery.sessionID),
                     .text(delivery.testerID), .text(delivery.recordedBy), .date(delivery.recordedAt)]
                )
            case .insertIdempotencyRecord(let record):
                try connection.query(
                    "INSERT INTO idempotency_keys (org, key, fingerprint, reply, created_at) VALUES (?, ?, ?, ?, ?)",
                    [.text(record.org), .text(record.key), .text(record.fingerprint), .blob(record.reply),
                     .date(record.createdAt)]
                )
            case .completeIdempotencyRecord(let org, let key, let reply):
                try connection.query(
                    "UPDATE idempotency_keys SET reply = ? WHERE org = ? AND key = ?",
                    [.blob(reply), .text(org), .text(key)]
                )
            case .pruneIdempotencyRecords(let cutoff):
                try connection.query("DELETE FROM idempotency_keys WHERE created_at < ?", [.date(cutoff)])
            }
        }
    }

    // MARK: Reads

    package func session(withID id: String) async throws -> TestSession? {
        if let cached = self.cache.session(id) { return cached }
        let session = try await self.reader.run { connection in
            var found: TestSession?
            try connection.query("SELECT \(SessionRows.columns) FROM sessions WHERE id = ?", [.text(id)]) { row in
                found = SessionRows.session(row)
            }
            return found
        }
        if let session { self.cache.storeIfNewer(session) }
        return session
    }

    /// A session served from memory without I/O, when it is cached (for answers on the event loop).
    package func cachedSession(withID id: String) -> TestSession? {
        self.cache.session(id)
    }

    package func session(org: String, jobID: String, testerID: String) async throws -> TestSession? {
        try await self.reader.run { connection in
            var found: TestSession?
            try connection.query(
                "SELECT \(SessionRows.columns) FROM sessions WHERE org = ? AND job_id = ? AND tester_id = ?",
                [.text(org), .text(jobID), .text(testerID)]
            ) { row in found = SessionRows.session(row) }
            return found
        }
    }

    package func variantCounts(org: String, jobID: String) async throws -> [Variant: Int] {
        try await self.reader.run { connection in
            var counts: [Variant: Int] = [:]
            try connection.query(
                "SELECT variant, COUNT(*) FROM sessions WHERE org = ? AND job_id = ? GROUP BY variant",
                [.text(org), .text(jobID)]
            ) { row in
                if let variant = Variant(rawValue: row.text(0)) { counts[variant] = Int(row.integer(1)) }
            }
            return counts
        }
    }

    package func sessions(matching query: SessionQuery) async throws -> [TestSession] {
        let (sql, values) = Self.listStatement(query)
        return try await self.reader.run { connection in
            var sessions: [TestSession] = []
            try connection.query(sql, values) { row in sessions.append(SessionRows.session(row)) }
            return sessions
        }
    }

    /// The SQL of a session list. A page reads at most `limit` + 1 index entries past the cursor:
    /// a tester's or a job's list walks that one's index in order, named because without
    /// statistics SQLite would pick the status index for tester + status and walk every session
    /// of the org in that status (a tester could stall the reader with it).
    static func listStatement(_ query: SessionQuery) -> (String, [SQLiteValue]) {
        let index = switch (query.jobID, query.testerID) {
        case (nil, nil): ""
        case (.some, nil): " INDEXED BY sessions_by_job"
        case (nil, .some): " INDEXED BY sessions_by_tester"
        case (.some, .some): " INDEXED BY sessions_by_job_tester"  // one session at most
        }
        var sql = "SELECT \(SessionRows.columns) FROM sessions\(index) WHERE org = ?"
        var values: [SQLiteValue] = [.text(query.org)]
        if let jobID = query.jobID {
            sql += " AND job_id = ?"
            values.append(.text(jobID))
        }
        if let testerID = query.testerID {
            sql += " AND tester_id = ?"
            values.append(.text(testerID))
        }
        if let status = query.status {
            sql += " AND status = ?"
            values.append(.text(status.rawValue))
        }
        if let after = query.after {
            sql += " AND (created_at > ? OR (created_at = ? AND id > ?))"
            values += [.date(after.createdAt), .date(after.createdAt), .text(after.id)]
        }
        sql += " ORDER BY created_at, id LIMIT ?"
        values.append(.integer(Int64(query.limit)))
        return (sql, values)
    }

    package func notes(sessionID: String) async throws -> [Note] {
        try await self.reader.run { connection in
            var notes: [Note] = []
            try connection.query(
                "SELECT id, session_id, content, author_id, created_at, updated_at, sequence FROM notes WHERE session_id = ? ORDER BY sequence",
                [.text(sessionID)]
            ) { row in notes.append(SessionRows.note(row)) }
            return notes
        }
    }

    package func notes(org: String, jobID: String) async throws -> [Note] {
        try await self.reader.run { connection in
            var notes: [Note] = []
            try connection.query(
                """
                SELECT n.id, n.session_id, n.content, n.author_id, n.created_at, n.updated_at, n.sequence
                FROM notes n JOIN sessions s ON s.id = n.session_id
                WHERE s.org = ? AND s.job_id = ? ORDER BY n.session_id, n.sequence LIMIT 5000
                """,
                [.text(org), .text(jobID)]
            ) { row in notes.append(SessionRows.note(row)) }
            return notes
        }
    }

    package func feedback(sessionID: String) async throws -> Feedback? {
        try await self.reader.run { connection in
            var feedback: Feedback?
            try connection.query(
                "SELECT id, session_id, clarity, difficulty, technical_issues, comment, submitted_at FROM feedback WHERE session_id = ?",
                [.text(sessionID)]
            ) { row in
                feedback = Feedback(id: row.text(0), sessionID: row.text(1), clarity: Int(row.integer(2)),
                                    difficulty: Int(row.integer(3)), technicalIssues: row.integer(4) != 0,
                                    comment: row.text(5), submittedAt: row.date(6))
            }
            return feedback
        }
    }

    package func analysis(sessionID: String) async throws -> Analysis? {
        try await self.reader.run { connection in
            var body: String?
            try connection.query("SELECT body FROM analyses WHERE session_id = ?", [.text(sessionID)]) { row in
                body = row.text(0)
            }
            return try body.map { (body) throws(ServiceError) in try Analysis(storedJSON: body) }
        }
    }

    package func completedDurations(org: String, jobID: String) async throws -> [Int64] {
        try await self.reader.run { connection in
            var durations: [Int64] = []
            try connection.query(
                "SELECT active_seconds FROM sessions WHERE org = ? AND job_id = ? AND completed_at IS NOT NULL",
                [.text(org), .text(jobID)]
            ) { row in durations.append(Int64(row.real(0))) }
            return durations
        }
    }

    package func analysisJobs(limit: Int) async throws -> [AnalysisJob] {
        try await self.reader.run { connection in
            var jobs: [AnalysisJob] = []
            try connection.query(
                "SELECT \(SessionRows.analysisJobColumns) FROM analysis_jobs ORDER BY queued_at, session_id LIMIT ?",
                [.integer(Int64(limit))]
            ) { row in jobs.append(SessionRows.analysisJob(row)) }
            return jobs
        }
    }

    package func payoutDeliveries(recordedBy: String?, limit: Int) async throws -> [PayoutDelivery] {
        try await self.reader.run { connection in
            var deliveries: [PayoutDelivery] = []
            try connection.query(
                """
                SELECT \(SessionRows.deliveryColumns) FROM payout_deliveries WHERE ? IS NULL OR recorded_by = ?
                ORDER BY recorded_at DESC, idempotency_key DESC LIMIT ?
                """,
                [.text(recordedBy), .text(recordedBy), .integer(Int64(limit))]
            ) { row in deliveries.append(SessionRows.delivery(row)) }
            return deliveries
        }
    }

    // MARK: Work queues

    package func claimAnalysisJobs(_ claim: JobClaim) async throws -> [AnalysisJob] {
        try await self.claim(claim, table: "analysis_jobs", key: "session_id", columns: SessionRows.analysisJobColumns,
                             SessionRows.analysisJob)
    }

    package func claimPayouts(_ claim: JobClaim) async throws -> [Payout] {
        try await self.claim(claim, table: "payouts", key: "id", columns: SessionRows.payoutColumns, SessionRows.payout)
    }

    /// Claims on the writer thread, the one writer there is, in a transaction of its own between
    /// group commits: a claim sees every commit before it, and no other claim runs meanwhile.
    /// While claimed, `next_attempt_at` is the lease's expiry, so one index finds both due kinds.
    private func claim<Job: Sendable>(
        _ claim: JobClaim,
        table: String,
        key: String,
        columns: String,
        _ decode: @escaping @Sendable (SQLiteRow) -> Job
    ) async throws -> [Job] {
        try await self.writer.run { connection in
            try connection.query("BEGIN IMMEDIATE")
            do {
                var jobs: [Job] = []
                try connection.query(
                    """
                    UPDATE \(table) SET status = 'claimed', lease_owner = ?, next_attempt_at = ?, attempts = attempts + 1
                    WHERE \(key) IN (
                        SELECT \(key) FROM \(table) WHERE status IN ('queued', 'claimed') AND next_attempt_at <= ?
                        ORDER BY next_attempt_at LIMIT ?)
                    RETURNING \(columns)
                    """,
                    [.text(claim.owner), .date(claim.leaseExpiresAt), .date(claim.now), .integer(Int64(claim.limit))]
                ) { row in jobs.append(decode(row)) }
                try connection.query("COMMIT")
                return jobs
            } catch {
                try? connection.query("ROLLBACK")
                throw error
            }
        }
    }

    static func leaseLost(_ job: String, _ lease: JobLease) -> ServiceError {
        ServiceError(.aborted, "\(job) is no longer claimed by \(lease.owner) for attempt \(lease.attempt)")
    }

    package func payouts(matching query: PayoutQuery) async throws -> [Payout] {
        try await self.reader.run { connection in
            var sql = "SELECT \(SessionRows.payoutColumns) FROM payouts WHERE org = ?"
            var values: [SQLiteValue] = [.text(query.org)]
            if let testerID = query.testerID {
                sql += " AND tester_id = ?"
                values.append(.text(testerID))
            }
            if let after = query.after {
                sql += " AND (created_at > ? OR (created_at = ? AND id > ?))"
                values += [.date(after.createdAt), .date(after.createdAt), .text(after.id)]
            }
            sql += " ORDER BY created_at, id LIMIT ?"
            values.append(.integer(Int64(query.limit)))
            var payouts: [Payout] = []
            try connection.query(sql, values) { row in payouts.append(SessionRows.payout(row)) }
            return payouts
        }
    }

    package func idempotencyRecord(org: String, key: String) async throws -> IdempotencyRecord? {
        try await self.reader.run { connection in
            var record: IdempotencyRecord?
            try connection.query(
                "SELECT org, key, fingerprint, reply, created_at FROM idempotency_keys WHERE org = ? AND key = ?",
                [.text(org), .text(key)]
            ) { row in
                record = IdempotencyRecord(org: row.text(0), key: row.text(1), fingerprint: row.text(2),
                                           reply: row.blob(3), createdAt: row.date(4))
            }
            return record
        }
    }

    /// Runs `PRAGMA integrity_check` and foreign key checks; returns the problems found.
    package func integrityProblems() async throws -> [String] {
        try await self.reader.run { connection in
            var problems: [String] = []
            try connection.query("PRAGMA integrity_check") { row in
                let text = row.text(0)
                if text != "ok" { problems.append(text) }
            }
            try connection.query("PRAGMA foreign_key_check") { row in problems.append("foreign key: \(row.text(0))") }
            return problems
        }
    }
}
