import Foundation

/// Where a session is in its lifecycle (documented statuses, plus `analyzing`).
package enum SessionStatus: String, Sendable, CaseIterable, Codable {
    case active, paused, completed, analyzing, analyzed, confirmed
}

/// The A/B variant a tester was assigned.
package enum Variant: String, Sendable, CaseIterable, Codable {
    case a = "A"
    case b = "B"
}

/// One tester's run of one study (job), owned by an organization.
package struct TestSession: Sendable, Equatable, Codable {
    package var id: String
    package var org: String
    package var jobID: String
    package var testerID: String
    package var variant: Variant
    package var status: SessionStatus
    package var createdAt: Date
    package var startedAt: Date
    package var completedAt: Date?
    package var pausedAt: Date?
    /// Active seconds accumulated up to the last pause or completion.
    package var activeSeconds: Double
    /// When the current active period began (creation or the last resume).
    package var resumedAt: Date
    package var analyzedAt: Date?
    package var confirmedAt: Date?
    package var lastAnalysisError: String?
    package var updatedAt: Date
    /// Incremented by every change; an update with a stale version is rejected (`aborted`).
    package var version: Int64

    package init(id: String, org: String, jobID: String, testerID: String, variant: Variant, createdAt: Date) {
        self.id = id
        self.org = org
        self.jobID = jobID
        self.testerID = testerID
        self.variant = variant
        self.status = .active
        self.createdAt = createdAt
        self.startedAt = createdAt
        self.activeSeconds = 0
        self.resumedAt = createdAt
        self.updatedAt = createdAt
        self.version = 1
    }

    /// Active time only (paused intervals excluded); before completion, the active time so far.
    package func durationSeconds(at now: Date) -> Int64 {
        var seconds = self.activeSeconds
        if self.status == .active {
            seconds += max(0, now.timeIntervalSince(self.resumedAt))
        }
        return Int64(seconds.rounded(.down))
    }
}
