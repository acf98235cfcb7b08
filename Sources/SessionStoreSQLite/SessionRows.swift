import Foundation
import ServiceErrors
import SessionCore

/// Column lists and row ⇄ value mapping, shared by every query.
enum SessionRows {
    static let columns = """
        id, org, job_id, tester_id, variant, status, created_at, started_at, completed_at, paused_at, \
        active_seconds, resumed_at, analyzed_at, confirmed_at, last_analysis_error, updated_at, version
        """

    /// Inserts a session; bind `insertValues(session)`.
    static let insert = "INSERT INTO sessions (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    static func insertValues(_ session: TestSession) -> [SQLiteValue] {
        [.text(session.id), .text(session.org), .text(session.jobID), .text(session.testerID)] + self.mutableValues(session)
    }

    static let payoutColumns =
        "id, org, session_id, tester_id, status, created_at, delivered_at, attempts, next_attempt_at, lease_owner, last_error"

    static let analysisJobColumns = "session_id, queued_at, status, attempts, next_attempt_at, lease_owner, last_error"

    static let deliveryColumns = "idempotency_key, org, session_id, tester_id, recorded_by, recorded_at"

    /// Values for the columns after `tester_id`, in order.
    static func mutableValues(_ session: TestSession) -> [SQLiteValue] {
        [
            .text(session.variant.rawValue), .text(session.status.rawValue), .date(session.createdAt),
            .date(session.startedAt), .date(session.completedAt), .date(session.pausedAt),
            .real(session.activeSeconds), .date(session.resumedAt), .date(session.analyzedAt),
            .date(session.confirmedAt), .text(session.lastAnalysisError), .date(session.updatedAt),
            .integer(session.version),
        ]
    }

    static func session(_ row: SQLiteRow) -> TestSession {
        var session = TestSession(
            id: row.text(0),
            org: row.text(1),
            jobID: row.text(2),
            testerID: row.text(3),
            variant: Variant(rawValue: row.text(4)) ?? .a,
            createdAt: row.date(6)
        )
        session.status = SessionStatus(rawValue: row.text(5)) ?? .active
        session.startedAt = row.date(7)
        session.completedAt = row.optionalDate(8)
        session.pausedAt = row.optionalDate(9)
        session.activeSeconds = row.real(10)
        session.resumedAt = row.date(11)
        session.analyzedAt = row.optionalDate(12)
        session.confirmedAt = row.optionalDate(13)
        session.lastAnalysisError = row.optionalText(14)
        session.updatedAt = row.date(15)
        session.version = row.integer(16)
        return session
    }

    static func note(_ row: SQLiteRow) -> Note {
        var note = Note(id: row.text(0), sessionID: row.text(1), content: row.text(2), authorID: row.text(3),
                        createdAt: row.date(4), sequence: row.integer(6))
        note.updatedAt = row.date(5)
        return note
    }

    static func payout(_ row: SQLiteRow) -> Payout {
        var payout = Payout(id: row.text(0), org: row.text(1), sessionID: row.text(2), testerID: row.text(3),
                            createdAt: row.date(5))
        payout.status = Payout.Status(rawValue: row.text(4)) ?? .queued
        payout.deliveredAt = row.optionalDate(6)
        payout.attempts = Int(row.integer(7))
        payout.nextAttemptAt = row.date(8)
        payout.leaseOwner = row.optionalText(9)
        payout.lastError = row.optionalText(10)
        return payout
    }

    static func analysisJob(_ row: SQLiteRow) -> AnalysisJob {
        var job = AnalysisJob(sessionID: row.text(0), queuedAt: row.date(1))
        job.status = AnalysisJob.Status(rawValue: row.text(2)) ?? .queued
        job.attempts = Int(row.integer(3))
        job.nextAttemptAt = row.date(4)
        job.leaseOwner = row.optionalText(5)
        job.lastError = row.optionalText(6)
        return job
    }

    static func delivery(_ row: SQLiteRow) -> PayoutDelivery {
        PayoutDelivery(idempotencyKey: row.text(0), org: row.text(1), sessionID: row.text(2), testerID: row.text(3),
                       recordedBy: row.text(4), recordedAt: row.date(5))
    }
}
