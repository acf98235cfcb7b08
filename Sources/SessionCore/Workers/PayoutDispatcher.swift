import Foundation
import Logging
import ServiceErrors

/// Delivers confirmed payouts through the `PayoutSink`, once per payout ID.
///
/// It claims due payouts with a lease (instances sharing a database never hold one payout at
/// the same time), hands each to the sink with the payout ID as the idempotency key (so the
/// redelivery after a crash or an expired lease is recognised by the sink), and records the
/// outcome guarded by the lease. A failed delivery is retried after an exponential backoff with
/// jitter and recorded as `failed` after `policy.maxAttempts` attempts.
package struct PayoutDispatcher: Sendable {
    let store: any SessionStore
    let sink: any PayoutSink
    let clock: any WallClock
    /// This instance's ID, the owner of its leases.
    let owner: String
    let policy: RetryPolicy
    let jitter: @Sendable () -> Double
    let logger: Logger

    package init(
        store: any SessionStore,
        sink: any PayoutSink,
        clock: any WallClock,
        owner: String = IDGenerator.instanceID(),
        policy: RetryPolicy = RetryPolicy(),
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        logger: Logger
    ) {
        self.store = store
        self.sink = sink
        self.clock = clock
        self.owner = owner
        self.policy = policy
        self.jitter = jitter
        self.logger = logger
    }

    /// Runs until the task is cancelled, looking for due payouts four times a second when idle.
    package func run() async {
        await WorkerLoop(name: "payout dispatcher", clock: self.clock, idleSeconds: 0.25, jitter: self.jitter, logger: self.logger)
            .run { try await self.runOnce() }
    }

    /// Claims the payouts due now and attempts each; returns how many it claimed. Throws (after
    /// the whole batch) when an outcome could not be recorded: that payout is retried when its
    /// lease expires.
    @discardableResult
    package func runOnce() async throws -> Int {
        let claim = JobClaim(owner: self.owner, now: self.clock.now, leaseDuration: self.policy.leaseDuration, limit: 16)
        let payouts = try await self.store.claimPayouts(claim)
        try await WorkerLoop.process(payouts, logger: self.logger, metadata: {
            ["payout_id": "\($0.id)", "attempt": "\($0.attempts)"]
        }) { payout in try await self.attempt(payout) }
        return payouts.count
    }

    private func attempt(_ payout: Payout) async throws {
        var attempt = JobAttempt(lease: payout.lease, policy: self.policy)
        let outcome: JobOutcome
        switch try attempt.start(lastError: payout.lastError) {
        case .record(let final):
            outcome = final
        case .run:
            do {
                try await self.sink.deliver(payout, idempotencyKey: payout.id)
                outcome = try attempt.succeeded(at: self.clock.now)
            } catch {
                outcome = try attempt.failed(WorkerLoop.describe(error), at: self.clock.now, jitter: self.jitter())
            }
        }
        try await self.store.commit(ChangeSet([.finishPayout(id: payout.id, lease: payout.lease, outcome: outcome)]))
        JobMetrics.record(outcome, queue: "payouts")
        switch outcome {
        case .done:
            break
        case .retry(let at, let error):
            self.logger.warning("payout delivery failed; will retry", metadata: [
                "payout_id": "\(payout.id)", "attempts": "\(payout.attempts)", "retry_at": "\(at)", "error": "\(error)",
            ])
        case .failed(let error):
            self.logger.error("payout delivery failed for good", metadata: [
                "payout_id": "\(payout.id)", "attempts": "\(payout.attempts)", "error": "\(error)",
            ])
        }
    }
}
