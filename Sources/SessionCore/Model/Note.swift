import Foundation

/// A researcher's note on a session.
package struct Note: Sendable, Equatable, Codable {
    package var id: String
    package var sessionID: String
    package var content: String
    package var authorID: String
    package var createdAt: Date
    package var updatedAt: Date
    /// Position in creation order within the session.
    package var sequence: Int64

    package init(id: String, sessionID: String, content: String, authorID: String, createdAt: Date, sequence: Int64) {
        self.id = id
        self.sessionID = sessionID
        self.content = content
        self.authorID = authorID
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.sequence = sequence
    }
}

/// A tester's structured feedback, at most one per session.
package struct Feedback: Sendable, Equatable, Codable {
    package var id: String
    package var sessionID: String
    package var clarity: Int
    package var difficulty: Int
    package var technicalIssues: Bool
    package var comment: String
    package var submittedAt: Date

    package init(
        id: String,
        sessionID: String,
        clarity: Int,
        difficulty: Int,
        technicalIssues: Bool,
        comment: String,
        submittedAt: Date
    ) {
        self.id = id
        self.sessionID = sessionID
        self.clarity = clarity
        self.difficulty = difficulty
        self.technicalIssues = technicalIssues
        self.comment = comment
        self.submittedAt = submittedAt
    }
}

/// A researcher's confirmation: the rating that releases the payout.
package struct Confirmation: Sendable, Equatable, Codable {
    package var sessionID: String
    package var rating: Int
    package var comment: String
    package var confirmedBy: String
    package var confirmedAt: Date

    package init(sessionID: String, rating: Int, comment: String, confirmedBy: String, confirmedAt: Date) {
        self.sessionID = sessionID
        self.rating = rating
        self.comment = comment
        self.confirmedBy = confirmedBy
        self.confirmedAt = confirmedAt
    }
}

/// Money owed to a tester for a confirmed session: written with the confirmation (outbox),
/// claimed from the payout queue by one instance at a time (`JobLease`) and delivered to the
/// `PayoutSink` with its ID as the idempotency key.
package struct Payout: Sendable, Equatable, Codable {
    package enum Status: String, Sendable, Codable {
        case queued, claimed, delivered, failed
    }

    package var id: String
    package var org: String
    package var sessionID: String
    package var testerID: String
    package var status: Status
    package var createdAt: Date
    package var deliveredAt: Date?
    /// Delivery attempts started (claims).
    package var attempts: Int
    /// Queued: when the dispatcher may try again. Claimed: when the lease expires and another
    /// instance may take the payout over.
    package var nextAttemptAt: Date
    /// The instance holding the claim (kept after it ends, for the record).
    package var leaseOwner: String?
    /// Why the last attempt failed.
    package var lastError: String?

    package init(id: String, org: String, sessionID: String, testerID: String, createdAt: Date) {
        self.id = id
        self.org = org
        self.sessionID = sessionID
        self.testerID = testerID
        self.status = .queued
        self.createdAt = createdAt
        self.attempts = 0
        self.nextAttemptAt = createdAt
    }

    /// The claim this payout is under (meaningful while `claimed`).
    package var lease: JobLease { JobLease(owner: self.leaseOwner ?? "", attempt: self.attempts) }
}

/// A payout as the local ledger records it: once per idempotency key (the payout ID).
package struct PayoutDelivery: Sendable, Equatable, Codable {
    package var idempotencyKey: String
    package var org: String
    package var sessionID: String
    package var testerID: String
    /// The instance that recorded it.
    package var recordedBy: String
    package var recordedAt: Date

    package init(idempotencyKey: String, org: String, sessionID: String, testerID: String, recordedBy: String, recordedAt: Date) {
        self.idempotencyKey = idempotencyKey
        self.org = org
        self.sessionID = sessionID
        self.testerID = testerID
        self.recordedBy = recordedBy
        self.recordedAt = recordedAt
    }
}
