import Foundation

/// What the analyzer concluded about one session.
package struct Analysis: Sendable, Equatable, Codable {
    package struct FrictionPoint: Sendable, Equatable, Codable {
        package var quote: String
        /// navigation, comprehension, bug, performance, …
        package var category: String
        /// low, medium or high.
        package var severity: String
        package var noteID: String

        package init(quote: String, category: String, severity: String, noteID: String) {
            self.quote = quote
            self.category = category
            self.severity = severity
            self.noteID = noteID
        }
    }

    package var sessionID: String
    package var summary: String
    /// From -1 (negative) to 1 (positive).
    package var sentimentScore: Double
    package var sentimentLabel: String
    package var frictionPoints: [FrictionPoint]
    package var themes: [String]
    package var durationSeconds: Int64
    package var jobMedianSeconds: Int64
    package var suggestedRating: Int
    package var analyzedAt: Date
    package var analyzer: String

    package init(
        sessionID: String,
        summary: String,
        sentimentScore: Double,
        sentimentLabel: String,
        frictionPoints: [FrictionPoint],
        themes: [String],
        durationSeconds: Int64,
        jobMedianSeconds: Int64,
        suggestedRating: Int,
        analyzedAt: Date,
        analyzer: String
    ) {
        self.sessionID = sessionID
        self.summary = summary
        self.sentimentScore = sentimentScore
        self.sentimentLabel = sentimentLabel
        self.frictionPoints = frictionPoints
        self.themes = themes
        self.durationSeconds = durationSeconds
        self.jobMedianSeconds = jobMedianSeconds
        self.suggestedRating = suggestedRating
        self.analyzedAt = analyzedAt
        self.analyzer = analyzer
    }
}

/// A request to analyze a session, written with the move to `analyzing` and claimed from the
/// analysis queue by one instance at a time (`JobLease`); removed when the analysis is stored.
package struct AnalysisJob: Sendable, Equatable, Codable {
    package enum Status: String, Sendable, Codable {
        case queued, claimed, failed
    }

    package var sessionID: String
    package var queuedAt: Date
    package var status: Status
    /// Attempts started (claims).
    package var attempts: Int
    /// Queued: when the worker may try again. Claimed: when the lease expires.
    package var nextAttemptAt: Date
    package var leaseOwner: String?
    package var lastError: String?

    package init(sessionID: String, queuedAt: Date) {
        self.sessionID = sessionID
        self.queuedAt = queuedAt
        self.status = .queued
        self.attempts = 0
        self.nextAttemptAt = queuedAt
    }

    /// The claim this job is under (meaningful while `claimed`).
    package var lease: JobLease { JobLease(owner: self.leaseOwner ?? "", attempt: self.attempts) }
}
