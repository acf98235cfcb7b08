import Foundation
import ServiceErrors
import SessionCore
import NIOConcurrencyHelpers

/// A store that forwards to a real one, except that operations told to `fail` throw
/// `unavailable` (as a database that is down would), and every call is counted by name.
package final class FaultInjectingStore: SessionStore {
    package enum Operation: String, Sendable, Hashable, CaseIterable {
        case commit, read, claimAnalysisJobs, claimPayouts
    }

    /// The real store, for looking without faults or counts.
    package let base: any SessionStore
    /// Operations that fail now, with how many more times.
    private let faults = NIOLockedValueBox<[Operation: Int]>([:])
    private let counts = NIOLockedValueBox<[Operation: Int]>([:])

    package init(_ base: any SessionStore) {
        self.base = base
    }

    /// How many times `operation` was called (failed calls included).
    package func calls(_ operation: Operation) -> Int {
        self.counts.withLockedValue { $0[operation, default: 0] }
    }

    /// Makes the next `times` calls of `operation` fail (every call, by default, until `heal`).
    package func fail(_ operation: Operation, times: Int = .max) {
        self.faults.withLockedValue { $0[operation] = times }
    }

    package func heal(_ operation: Operation) {
        self.faults.withLockedValue { $0[operation] = nil }
    }

    private func enter(_ operation: Operation) throws(ServiceError) {
        self.counts.withLockedValue { $0[operation, default: 0] += 1 }
        let fails = self.faults.withLockedValue { faults in
            guard let remaining = faults[operation], remaining > 0 else { return false }
            faults[operation] = remaining - 1
            return true
        }
        if fails { throw ServiceError(.unavailable, "injected fault: \(operation.rawValue)") }
    }

    package func commit(_ changes: ChangeSet) async throws {
        try self.enter(.commit)
        try await self.base.commit(changes)
    }

    package func claimAnalysisJobs(_ claim: JobClaim) async throws -> [AnalysisJob] {
        try self.enter(.claimAnalysisJobs)
        return try await self.base.claimAnalysisJobs(claim)
    }

    package func claimPayouts(_ claim: JobClaim) async throws -> [Payout] {
        try self.enter(.claimPayouts)
        return try await self.base.claimPayouts(claim)
    }

    // Reads: one fault switch for all of them.

    package func session(withID id: String) async throws -> TestSession? {
        try self.enter(.read)
        return try await self.base.session(withID: id)
    }

    package func session(org: String, jobID: String, testerID: String) async throws -> TestSession? {
        try self.enter(.read)
        return try await self.base.session(org: org, jobID: jobID, testerID: testerID)
    }

    package func variantCounts(org: String, jobID: String) async throws -> [Variant: Int] {
        try self.enter(.read)
        return try await self.base.variantCounts(org: org, jobID: jobID)
    }

    package func sessions(matching query: SessionQuery) async throws -> [TestSession] {
        try self.enter(.read)
        return try await self.base.sessions(matching: query)
    }

    package func notes(sessionID: String) async throws -> [Note] {
        try self.enter(.read)
        return try await self.base.notes(sessionID: sessionID)
    }

    package func notes(org: String, jobID: String) async throws -> [Note] {
        try self.enter(.read)
        return try await self.base.notes(org: org, jobID: jobID)
    }

    package func feedback(sessionID: String) async throws -> Feedback? {
        try self.enter(.read)
        return try await self.base.feedback(sessionID: sessionID)
    }

    package func analysis(sessionID: String) async throws -> Analysis? {
        try self.enter(.read)
        return try await self.base.analysis(sessionID: sessionID)
    }

    package func completedDurations(org: String, jobID: String) async throws -> [Int64] {
        try self.enter(.read)
        return try await self.base.completedDurations(org: org, jobID: jobID)
    }

    package func analysisJobs(limit: Int) async throws -> [AnalysisJob] {
        try self.enter(.read)
        return try await self.base.analysisJobs(limit: limit)
    }

    package func payouts(matching query: PayoutQuery) async throws -> [Payout] {
        try self.enter(.read)
        return try await self.base.payouts(matching: query)
    }

    package func payoutDeliveries(recordedBy: String?, limit: Int) async throws -> [PayoutDelivery] {
        try self.enter(.read)
        return try await self.base.payoutDeliveries(recordedBy: recordedBy, limit: limit)
    }

    package func idempotencyRecord(org: String, key: String) async throws -> IdempotencyRecord? {
        try self.enter(.read)
        return try await self.base.idempotencyRecord(org: org, key: key)
    }
}
