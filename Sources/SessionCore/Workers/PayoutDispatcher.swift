import Foundation
import Logging

/// Delivers queued payouts to the sink at least once, retrying with exponential backoff (1 s
/// doubling to 5 min). The payout ID is the sink's idempotency key, so a redelivery after a
/// crash between delivery and the status update never pays twice.
package struct PayoutDispatcher: Sendable {
    let store: any SessionStore
    let sink: any PayoutSink
    let clock: any WallClock
    let logger: Logger

    package init(store: any SessionStore, sink: any PayoutSink, clock: any WallClock, logger: Logger) {
        self.store = store
        self.sink = sink
        self.clock = clock
        self.logger = logger
    }

    package func run() async {
        while !Task.isCancelled {
            let delivered = (try? await self.runOnce()) ?? 0
            if delivered == 0 { try? await Task.sleep(for: .milliseconds(250)) }
        }
    }

    /// Attempts every payout due now; returns how many were attempted.
    @discardableResult
    package func runOnce() async throws -> Int {
        let due = try await self.store.duePayouts(at: self.clock.now, limit: 64)
        for payout in due {
            var next = payout
            next.attempts += 1
            do {
                try await self.sink.deliver(payout)
                next.status = .delivered
                next.deliveredAt = self.clock.now
            } catch {
                let backoff = min(300, pow(2, Double(min(next.attempts - 1, 20))))
                next.nextAttemptAt = self.clock.now.addingTimeInterval(backoff)
                self.logger.warning("payout delivery failed; will retry",
                                    metadata: ["payout_id": "\(payout.id)", "attempts": "\(next.attempts)",
                                               "error": "\(error)"])
            }
            try await self.store.commit(ChangeSet([.updatePayout(next)]))
        }
        return due.count
    }
}
