/// Turns a session's notes, feedback and timings into an `Analysis`. The default runs locally
/// and deterministically; a remote model endpoint would be another implementation.
package protocol Analyzer: Sendable {
    func analyze(_ input: AnalysisInput) async throws -> Analysis
}

/// Everything an analyzer may look at.
package struct AnalysisInput: Sendable {
    package var session: TestSession
    package var notes: [Note]
    package var feedback: Feedback?
    /// Completed durations of the job's sessions, for the comparison against the median.
    package var jobDurations: [Int64]
    /// Notes of the job's other sessions, for themes across sessions.
    package var jobNotes: [Note]

    package init(session: TestSession, notes: [Note], feedback: Feedback?, jobDurations: [Int64], jobNotes: [Note]) {
        self.session = session
        self.notes = notes
        self.feedback = feedback
        self.jobDurations = jobDurations
        self.jobNotes = jobNotes
    }
}

/// Where confirmed payouts are delivered. The dispatcher may hand a payout over more than once
/// (after a crash or an expired lease), always with the same idempotency key, the payout ID: a
/// sink pays once per key, and answers a repeated key as delivered.
package protocol PayoutSink: Sendable {
    func deliver(_ payout: Payout, idempotencyKey: String) async throws
}
