import Foundation
import ServiceErrors

/// The session state machine. Every transition names the statuses it accepts; a call from any
/// other status is FAILED_PRECONDITION naming the current status and the accepted ones.
/// Switches list every status (no `default:`), so a new status shows every place that decides.
extension TestSession {
    /// Actions the current status allows, for `allowed_actions` (the caller's role narrows it).
    package var allowedActions: [String] { Self.allowedActions(in: self.status) }

    package static func allowedActions(in status: SessionStatus) -> [String] {
        switch status {
        case .active: ["pause", "complete", "notes"]
        case .paused: ["resume", "complete", "notes"]
        case .completed: ["analyze", "feedback", "notes"]
        case .analyzing: ["feedback", "notes"]
        case .analyzed: ["confirm", "analyze", "feedback", "notes"]
        case .confirmed: ["feedback", "notes"]
        }
    }

    private func rejected(_ action: String, accepted: [SessionStatus]) -> ServiceError {
        let names = accepted.map(\.rawValue).joined(separator: " or ")
        return ServiceError(
            .failedPrecondition,
            "cannot \(action) session \(self.id): it is \(self.status.rawValue); \(action) needs \(names)"
        )
    }

    private mutating func touch(_ now: Date) {
        self.updatedAt = now
        self.version += 1
    }

    mutating func pause(at now: Date) throws(ServiceError) {
        switch self.status {
        case .active:
            self.activeSeconds += max(0, now.timeIntervalSince(self.resumedAt))
            self.status = .paused
            self.pausedAt = now
            self.touch(now)
        case .paused, .completed, .analyzing, .analyzed, .confirmed:
            throw self.rejected("pause", accepted: [.active])
        }
    }

    mutating func resume(at now: Date) throws(ServiceError) {
        switch self.status {
        case .paused:
            self.status = .active
            self.resumedAt = now
            self.pausedAt = nil
            self.touch(now)
        case .active, .completed, .analyzing, .analyzed, .confirmed:
            throw self.rejected("resume", accepted: [.paused])
        }
    }

    /// Completes at `completedAt` (default `now`), which may not precede the start nor lie more
    /// than `futureTolerance` ahead.
    mutating func complete(at now: Date, completedAt: Date?, futureTolerance: TimeInterval = 300) throws(ServiceError) {
        switch self.status {
        case .active, .paused:
            let end = completedAt ?? now
            if end < self.startedAt {
                throw ServiceError.invalidField("completedAt", "must not be before the session started (\(self.startedAt))")
            }
            if end > now.addingTimeInterval(futureTolerance) {
                throw ServiceError.invalidField("completedAt", "must not be more than 5 minutes in the future")
            }
            if self.status == .active {
                self.activeSeconds += max(0, end.timeIntervalSince(self.resumedAt))
            }
            self.status = .completed
            self.completedAt = end
            self.pausedAt = nil
            self.touch(now)
        case .completed, .analyzing, .analyzed, .confirmed:
            throw self.rejected("complete", accepted: [.active, .paused])
        }
    }

    /// Queues analysis: from `completed`, or again from `analyzed` to refresh it.
    mutating func startAnalysis(at now: Date) throws(ServiceError) {
        switch self.status {
        case .completed, .analyzed:
            self.status = .analyzing
            self.touch(now)
        case .active, .paused, .analyzing, .confirmed:
            throw self.rejected("analyze", accepted: [.completed, .analyzed])
        }
    }

    mutating func finishAnalysis(at now: Date) throws(ServiceError) {
        switch self.status {
        case .analyzing:
            self.status = .analyzed
            self.analyzedAt = now
            self.lastAnalysisError = nil
            self.touch(now)
        case .active, .paused, .completed, .analyzed, .confirmed:
            throw self.rejected("finish analysis of", accepted: [.analyzing])
        }
    }

    /// A failed analysis returns the session to `completed` with the error, so it can be retried.
    mutating func failAnalysis(_ error: String, at now: Date) throws(ServiceError) {
        switch self.status {
        case .analyzing:
            self.status = .completed
            self.lastAnalysisError = error
            self.touch(now)
        case .active, .paused, .completed, .analyzed, .confirmed:
            throw self.rejected("fail analysis of", accepted: [.analyzing])
        }
    }

    mutating func confirm(at now: Date) throws(ServiceError) {
        switch self.status {
        case .analyzed:
            self.status = .confirmed
            self.confirmedAt = now
            self.touch(now)
        case .active, .paused, .completed, .analyzing, .confirmed:
            throw self.rejected("confirm", accepted: [.analyzed])
        }
    }

    /// Feedback is taken once the tester has finished: `completed` or any later status.
    func checkAcceptsFeedback() throws(ServiceError) {
        switch self.status {
        case .completed, .analyzing, .analyzed, .confirmed:
            return
        case .active, .paused:
            throw self.rejected("submit feedback for", accepted: [.completed, .analyzing, .analyzed, .confirmed])
        }
    }
}
