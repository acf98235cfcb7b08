import Foundation
import Logging

/// Deletes idempotency records older than their time to live, at start and every ten minutes:
/// a key is honoured for at least `timeToLive` (24 h by default) and forgotten within ten
/// minutes after. Every instance may run one; the deletes are idempotent.
package struct IdempotencyPruner: Sendable {
    package static let defaultTimeToLive: TimeInterval = 24 * 3600

    let store: any SessionStore
    let clock: any WallClock
    let timeToLive: TimeInterval
    let logger: Logger

    package init(store: any SessionStore, clock: any WallClock, timeToLive: TimeInterval = Self.defaultTimeToLive,
                 logger: Logger) {
        self.store = store
        self.clock = clock
        self.timeToLive = timeToLive
        self.logger = logger
    }

    /// Runs until the task is cancelled.
    package func run() async {
        await WorkerLoop(name: "idempotency pruner", clock: self.clock, idleSeconds: 600, logger: self.logger)
            .run { try await self.runOnce() }
    }

    /// Deletes the expired records now (a pass that takes no jobs, so the loop then idles).
    @discardableResult
    package func runOnce() async throws -> Int {
        try await self.store.commit(ChangeSet([.pruneIdempotencyRecords(before: self.clock.now - self.timeToLive)]))
        return 0
    }
}
