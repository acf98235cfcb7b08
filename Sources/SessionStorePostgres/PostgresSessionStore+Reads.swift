import Foundation
import PostgresNIO
import ServiceErrors
import SessionCore

extension PostgresSessionStore {
    static let sessionColumns = """
        id, org, job_id, tester_id, variant, status, created_at, started_at, completed_at, paused_at, \
        active_seconds, resumed_at, analyzed_at, confirmed_at, last_analysis_error, updated_at, version
        """

    static let payoutColumns =
        "id, org, session_id, tester_id, status, created_at, delivered_at, attempts, next_attempt_at, lease_owner, last_error"

    static let analysisJobColumns = "session_id, queued_at, status, attempts, next_attempt_at, lease_owner, last_error"

    static let deliveryColumns = "idempotency_key, org, session_id, tester_id, recorded_by, recorded_at"

    static func session(_ row: PostgresRow) throws -> TestSession {
        let r = row.makeRandomAccess()
        var session = TestSession(
            id: try r["id"].decode(String.self),
            org: try r["org"].decode(String.self),
            jobID: try r["job_id"].decode(String.self),
            testerID: try r["tester_id"].decode(String.self),
            variant: Variant(rawValue: try r["variant"].decode(String.self)) ?? .a,
            createdAt: Date(seconds: try r["created_at"].decode(Double.self))
        )
        session.status = SessionStatus(rawValue: try r["status"].decode(String.self)) ?? .active
        session.startedAt = Date(seconds: try r["started_at"].decode(Double.self))
        session.completedAt = try r["completed_at"].decode(Double?.self).map(Date.init(seconds:))
        session.pausedAt = try r["paused_at"].decode(Double?.self).map(Date.init(seconds:))
        session.activeSeconds = try r["active_seconds"].decode(Double.self)
        session.resumedAt = Date(seconds: try r["resumed_at"].decode(Double.self))
        session.analyzedAt = try r["analyzed_at"].decode(Double?.self).map(Date.init(seconds:))
        session.confirmedAt = try r["confirmed_at"].decode(Double?.self).map(Date.init(seconds:))
        session.lastAnalysisError = try r["last_analysis_error"].decode(String?.self)
        session.updatedAt = Date(seconds: try r["updated_at"].decode(Double.self))
        session.version = try r["version"].decode(Int64.self)
        return session
    }

    static func payout(_ row: PostgresRow) throws -> Payout {
        let r = row.makeRandomAccess()
        var payout = Payout(
            id: try r["id"].decode(String.self),
            org: try r["org"].decode(String.self),
            sessionID: try r["session_id"].decode(String.self),
            testerID: try r["tester_id"].decode(String.self),
            createdAt: Date(seconds: try r["created_at"].decode(Double.self))
        )
        payout.status = Payout.Status(rawValue: try r["status"].decode(String.self)) ?? .queued
        payout.deliveredAt = try r["delivered_at"].decode(Double?.self).map(Date.init(seconds:))
        payout.attempts = try r["attempts"].decode(Int.self)
        payout.nextAttemptAt = Date(seconds: try r["next_attempt_at"].decode(Double.self))
        payout.leaseOwner = try r["lease_owner"].decode(String?.self)
        payout.lastError = try r["last_error"].decode(String?.self)
        return payout
    }

    static func analysisJob(_ row: PostgresRow) throws -> AnalysisJob {
        let r = row.makeRandomAccess()
        var job = AnalysisJob(sessionID: try r["session_id"].decode(String.self),
                              queuedAt: Date(seconds: try r["queued_at"].decode(Double.self)))
        job.status = AnalysisJob.Status(rawValue: try r["status"].decode(String.self)) ?? .queued
        job.attempts = try r["attempts"].decode(Int.self)
        job.nextAttemptAt = Date(seconds: try r["next_attempt_at"].decode(Double.self))
        job.leaseOwner = try r["lease_owner"].decode(String?.self)
        job.lastError = try r["last_error"].decode(String?.self)
        return job
    }

    static func delivery(_ row: PostgresRow) throws -> PayoutDelivery {
        let r = row.makeRandomAccess()
        return PayoutDelivery(
            idempotencyKey: try r["idempotency_key"].decode(String.self), org: try r["org"].decode(String.self),
            sessionID: try r["session_id"].decode(String.self), testerID: try r["tester_id"].decode(String.self),
            recordedBy: try r["recorded_by"].decode(String.self),
            recordedAt: Date(seconds: try r["recorded_at"].decode(Double.self)))
    }

    static func note(_ row: PostgresRow) throws -> Note {
        let r = row.makeRandomAccess()
        var note = Note(
            id: try r["id"].decode(String.self),
            sessionID: try r["session_id"].decode(String.self),
            content: try r["content"].decode(String.self),
            authorID: try r["author_id"].decode(String.self),
            createdAt: Date(seconds: try r["created_at"].decode(Double.self)),
            sequence: try r["sequence"].decode(Int64.self)
        )
        note.updatedAt = Date(seconds: try r["updated_at"].decode(Double.self))
        return note
    }

    private func rows<T>(_ query: PostgresQuery, _ map: (PostgresRow) throws -> T) async throws -> [T] {
        do {
            var result: [T] = []
            for try await row in try await self.client.query(query, logger: self.logger) {
                result.append(try map(row))
            }
            return result
        } catch {
            throw Self.serviceError(error)
        }
    }

    package func session(withID id: String) async throws -> TestSession? {
        try await self.rows("SELECT \(unescaped: Self.sessionColumns) FROM sessions WHERE id = \(id)", Self.session).first
    }

    package func session(org: String, jobID: String, testerID: String) async throws -> TestSession? {
        try await self.rows(
            "SELECT \(unescaped: Self.sessionColumns) FROM sessions WHERE org = \(org) AND job_id = \(jobID) AND tester_id = \(testerID)",
            Self.session
        ).first
    }

    package func variantCounts(org: String, jobID: String) async throws -> [Variant: Int] {
        let pairs = try await self.rows(
            "SELECT variant, COUNT(*)::BIGINT AS n FROM sessions WHERE org = \(org) AND job_id = \(jobID) GROUP BY variant"
        ) { row -> (String, Int64) in
            let r = row.makeRandomAccess()
            return (try r["variant"].decode(String.self), try r["n"].decode(Int64.self))
        }
        var counts: [Variant: Int] = [:]
        for (variant, count) in pairs { if let v = Variant(rawValue: variant) { counts[v] = Int(count) } }
        return counts
    }

    package func sessions(matching query: SessionQuery) async throws -> [TestSession] {
        // Optional filters as "parameter IS NULL OR column = parameter", so values stay bound.
        let after = query.after
        return try await self.rows("""
            SELECT \(unescaped: Self.sessionColumns) FROM sessions
            WHERE org = \(query.org)
              AND (\(query.jobID)::TEXT IS NULL OR job_id = \(query.jobID))
              AND (\(query.testerID)::TEXT IS NULL OR tester_id = \(query.testerID))
              AND (\(query.status?.rawValue)::TEXT IS NULL OR status = \(query.status?.rawValue))
              AND (\(after?.createdAt.seconds)::DOUBLE PRECISION IS NULL
                   OR created_at > \(after?.createdAt.seconds)
                   OR (created_at = \(after?.createdAt.seconds) AND id > \(after?.id)))
            ORDER BY created_at, id LIMIT \(query.limit)
            """, Self.session)
    }

    package func notes(sessionID: String) async throws -> [Note] {
        try await self.rows(
            "SELECT id, session_id, content, author_id, created_at, updated_at, sequence FROM notes WHERE session_id = \(sessionID) ORDER BY sequence",
            Self.note
        )
    }

    package func notes(org: String, jobID: String) async throws -> [Note] {
        try await self.rows("""
            SELECT n.id, n.session_id, n.content, n.author_id, n.created_at, n.updated_at, n.sequence
            FROM notes n JOIN sessions s ON s.id = n.session_id
            WHERE s.org = \(org) AND s.job_id = \(jobID) ORDER BY n.session_id, n.sequence LIMIT 5000
            """, Self.note)
    }

    package func feedback(sessionID: String) async throws -> Feedback? {
        try await self.rows(
            "SELECT id, session_id, clarity, difficulty, technical_issues, comment, submitted_at FROM feedback WHERE session_id = \(sessionID)"
        ) { row in
            let r = row.makeRandomAccess()
            return Feedback(
                id: try r["id"].decode(String.self), sessionID: try r["session_id"].decode(String.self),
                clarity: try r["clarity"].decode(Int.self), difficulty: try r["difficulty"].decode(Int.self),
                technicalIssues: try r["technical_issues"].decode(Bool.self), comment: try r["comment"].decode(String.self),
                submittedAt: Date(seconds: try r["submitted_at"].decode(Double.self)))
        }.first
    }

    package func analysis(sessionID: String) async throws -> Analysis? {
        let bodies = try await self.rows("SELECT body FROM analyses WHERE session_id = \(sessionID)") { row in
            try row.makeRandomAccess()["body"].decode(String.self)
        }
        return try bodies.first.map { (body) throws(ServiceError) in try Analysis(storedJSON: body) }
    }

    package func completedDurations(org: String, jobID: String) async throws -> [Int64] {
        try await self.rows(
            "SELECT active_seconds FROM sessions WHERE org = \(org) AND job_id = \(jobID) AND completed_at IS NOT NULL"
        ) { row in Int64(try row.makeRandomAccess()["active_seconds"].decode(Double.self)) }
    }

    package func analysisJobs(limit: Int) async throws -> [AnalysisJob] {
        try await self.rows(
            "SELECT \(unescaped: Self.analysisJobColumns) FROM analysis_jobs ORDER BY queued_at, session_id LIMIT \(limit)",
            Self.analysisJob)
    }

    package func payoutDeliveries(recordedBy: String?, limit: Int) async throws -> [PayoutDelivery] {
        try await self.rows("""
            SELECT \(unescaped: Self.deliveryColumns) FROM payout_deliveries
            WHERE \(recordedBy)::TEXT IS NULL OR recorded_by = \(recordedBy)
            ORDER BY recorded_at DESC, idempotency_key DESC LIMIT \(limit)
            """, Self.delivery)
    }

    // MARK: Work queues

    package func claimAnalysisJobs(_ claim: JobClaim) async throws -> [AnalysisJob] {
        try await self.claim(claim, table: "analysis_jobs", key: "session_id", Self.analysisJob)
    }

    package func claimPayouts(_ claim: JobClaim) async throws -> [Payout] {
        try await self.claim(claim, table: "payouts", key: "id", Self.payout)
    }

    /// One statement: the due rows are locked as they are found, skipping rows another
    /// transaction holds (`FOR UPDATE SKIP LOCKED`, re-checked against their newest version), so
    /// concurrent claimers on any instance each get different jobs and never wait on each other.
    /// The CTE is materialized so the locking scan runs once. While claimed, `next_attempt_at` is
    /// the lease's expiry: one index finds both kinds of due job. `table` and `key` are constants.
    private func claim<Job>(_ claim: JobClaim, table: String, key: String, _ decode: (PostgresRow) throws -> Job)
        async throws -> [Job]
    {
        try await self.rows("""
            WITH due AS MATERIALIZED (
                SELECT \(unescaped: key) FROM \(unescaped: table)
                WHERE status IN ('queued', 'claimed') AND next_attempt_at <= \(claim.now.seconds)
                ORDER BY next_attempt_at LIMIT \(claim.limit)
                FOR UPDATE SKIP LOCKED)
            UPDATE \(unescaped: table) j SET status = 'claimed', lease_owner = \(claim.owner),
                next_attempt_at = \(claim.leaseExpiresAt.seconds), attempts = j.attempts + 1
            FROM due WHERE j.\(unescaped: key) = due.\(unescaped: key)
            RETURNING j.*
            """, decode)
    }

    package func payouts(matching query: PayoutQuery) async throws -> [Payout] {
        let after = query.after
        return try await self.rows("""
            SELECT \(unescaped: Self.payoutColumns) FROM payouts
            WHERE org = \(query.org)
              AND (\(query.testerID)::TEXT IS NULL OR tester_id = \(query.testerID))
              AND (\(after?.createdAt.seconds)::DOUBLE PRECISION IS NULL
                   OR created_at > \(after?.createdAt.seconds)
                   OR (created_at = \(after?.createdAt.seconds) AND id > \(after?.id)))
            ORDER BY created_at, id LIMIT \(query.limit)
            """, Self.payout)
    }

    package func idempotencyRecord(org: String, key: String) async throws -> IdempotencyRecord? {
        try await self.rows(
            "SELECT org, key, fingerprint, reply, created_at FROM idempotency_keys WHERE org = \(org) AND key = \(key)"
        ) { row in
            let r = row.makeRandomAccess()
            var reply = try r["reply"].decode(ByteBuffer.self)
            return IdempotencyRecord(
                org: try r["org"].decode(String.self), key: try r["key"].decode(String.self),
                fingerprint: try r["fingerprint"].decode(String.self),
                reply: reply.readBytes(length: reply.readableBytes) ?? [],
                createdAt: Date(seconds: try r["created_at"].decode(Double.self)))
        }.first
    }
}
