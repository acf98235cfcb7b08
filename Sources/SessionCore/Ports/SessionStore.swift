import Foundation
import ServiceErrors

/// Durable storage of sessions and everything attached to them. Implementations: SQLite
/// (embedded default) and PostgreSQL; both pass the same contract tests.
///
/// Writes are non-interactive: a use case reads, decides in memory, then commits a `ChangeSet`
/// that applies atomically or not at all. Updates carry the version they were based on; a
/// concurrent change makes the commit fail with `aborted`, and the use case retries.
/// Uniqueness rules (one session per org/job/tester, one feedback and one payout per session)
/// are enforced by the store and surface as `alreadyExists`.
package protocol SessionStore: Sendable {
    /// Applies every change or none; returns once durable.
    func commit(_ changes: ChangeSet) async throws

    func session(withID id: String) async throws -> TestSession?
    func session(org: String, jobID: String, testerID: String) async throws -> TestSession?
    /// How many sessions of a job have each variant.
    func variantCounts(org: String, jobID: String) async throws -> [Variant: Int]
    func sessions(matching query: SessionQuery) async throws -> [TestSession]
    func notes(sessionID: String) async throws -> [Note]
    /// Notes of every session of a job (bounded), for themes across sessions.
    func notes(org: String, jobID: String) async throws -> [Note]
    func feedback(sessionID: String) async throws -> Feedback?
    func analysis(sessionID: String) async throws -> Analysis?
    /// Completed durations (seconds) of a job's other sessions, for the median.
    func completedDurations(org: String, jobID: String) async throws -> [Int64]

    /// Analysis jobs in any state (queued, claimed, failed), oldest first.
    func analysisJobs(limit: Int) async throws -> [AnalysisJob]
    func payouts(matching query: PayoutQuery) async throws -> [Payout]
    /// The local ledger's newest records (only those `recordedBy` made, when given), newest first.
    func payoutDeliveries(recordedBy: String?, limit: Int) async throws -> [PayoutDelivery]

    /// Claims up to `claim.limit` due analysis jobs for `claim.owner`, earliest due first: queued
    /// ones whose next attempt has come, and claimed ones whose lease has expired (taken over).
    /// Each comes back claimed until `claim.leaseExpiresAt` with its attempt counted. Concurrent
    /// claims, from this instance or others, never return the same job.
    func claimAnalysisJobs(_ claim: JobClaim) async throws -> [AnalysisJob]
    /// Claims due payouts, as `claimAnalysisJobs` does analysis jobs.
    func claimPayouts(_ claim: JobClaim) async throws -> [Payout]

    func idempotencyRecord(org: String, key: String) async throws -> IdempotencyRecord?

    /// A session from memory when the store has it there (no I/O, no waiting); nil otherwise.
    func cachedSession(withID id: String) -> TestSession?
}

extension SessionStore {
    /// Stores without an in-memory copy always answer through `session(withID:)`.
    package func cachedSession(withID id: String) -> TestSession? { nil }
}

/// Changes applied together by `SessionStore.commit`.
package struct ChangeSet: Sendable {
    package enum Change: Sendable {
        case insertSession(TestSession)
        /// Replaces the session whose stored version is `session.version - 1`.
        case updateSession(TestSession)
        case insertNote(Note)
        /// Replaces a note of `note.sessionID`; `notFound` when there is none.
        case updateNote(Note)
        case insertFeedback(Feedback)
        case insertConfirmation(Confirmation)
        /// Queues a session's analysis job (replacing a failed or finished one: attempts start over).
        case enqueueAnalysis(AnalysisJob)
        case saveAnalysis(Analysis)
        /// Records how a claimed analysis job ended (`done` removes it); `aborted` when the job is
        /// no longer claimed under `lease` (it expired and was taken over).
        case finishAnalysisJob(sessionID: String, lease: JobLease, outcome: JobOutcome)
        case insertPayout(Payout)
        /// Records how a claimed payout's delivery ended; `aborted` as for `finishAnalysisJob`.
        case finishPayout(id: String, lease: JobLease, outcome: JobOutcome)
        /// The local ledger's record of a payout; `alreadyExists` when its key is recorded already.
        case recordPayoutDelivery(PayoutDelivery)
        /// Claims an idempotency key; `alreadyExists` when the caller's key is claimed already
        /// (then nothing of the change set is applied).
        case insertIdempotencyRecord(IdempotencyRecord)
        /// Stores the reply of the call that claimed the key (in the same commit as the call's
        /// mutation, the key was claimed with an empty reply).
        case completeIdempotencyRecord(org: String, key: String, reply: [UInt8])
        /// Deletes idempotency records created before the date (their keys may be used afresh).
        case pruneIdempotencyRecords(before: Date)
    }

    package var changes: [Change]

    package init(_ changes: [Change] = []) {
        self.changes = changes
    }

    package mutating func append(_ change: Change) {
        self.changes.append(change)
    }
}

/// Filters and paging for `ListSessions`, in creation order (oldest first, ties by ID).
package struct SessionQuery: Sendable, Equatable {
    package var org: String
    package var jobID: String?
    package var testerID: String?
    package var status: SessionStatus?
    /// Only sessions after this (createdAt, id) position.
    package var after: (createdAt: Date, id: String)?
    package var limit: Int

    package init(org: String, jobID: String? = nil, testerID: String? = nil, status: SessionStatus? = nil, limit: Int) {
        self.org = org
        self.jobID = jobID
        self.testerID = testerID
        self.status = status
        self.limit = limit
    }

    package static func == (lhs: SessionQuery, rhs: SessionQuery) -> Bool {
        lhs.org == rhs.org && lhs.jobID == rhs.jobID && lhs.testerID == rhs.testerID && lhs.status == rhs.status
            && lhs.limit == rhs.limit && lhs.after?.createdAt == rhs.after?.createdAt && lhs.after?.id == rhs.after?.id
    }
}

package struct PayoutQuery: Sendable {
    package var org: String
    package var testerID: String?
    /// Only payouts after this (createdAt, id) position.
    package var after: (createdAt: Date, id: String)?
    package var limit: Int

    package init(org: String, testerID: String? = nil, limit: Int) {
        self.org = org
        self.testerID = testerID
        self.limit = limit
    }
}

/// The first reply to a mutating request, kept so a retry with the same key gets it again.
package struct IdempotencyRecord: Sendable, Equatable {
    package var org: String
    package var key: String
    /// Which method and request body the key was first used with.
    package var fingerprint: String
    /// Empty while the call that claimed the key has committed its mutation but not yet stored
    /// its reply (no reply of ours is empty).
    package var reply: [UInt8]
    package var createdAt: Date

    /// Whether the call that claimed the key has stored its reply.
    package var isComplete: Bool { !self.reply.isEmpty }

    package init(org: String, key: String, fingerprint: String, reply: [UInt8], createdAt: Date) {
        self.org = org
        self.key = key
        self.fingerprint = fingerprint
        self.reply = reply
        self.createdAt = createdAt
    }
}

/// The rule both stores apply before migrating: a database whose schema is newer than the
/// migrations this binary has was migrated by a newer sessiond, and running on it could
/// misread or damage data.
package enum SchemaVersion {
    package static func check(applied: Int, known: Int) throws(ServiceError) {
        guard applied <= known else {
            throw ServiceError(
                .failedPrecondition,
                "the database schema is at version \(applied), newer than this sessiond knows (\(known)); "
                    + "run a sessiond at least as new as the one that migrated it")
        }
    }
}
