import Foundation
import ServiceErrors

/// A payout sink that records each payout once per idempotency key, in the store's own
/// `payout_deliveries` (one row per key, the database's uniqueness deciding). A payout handed
/// over again, after a crash, a restart or by the instance that took its lease over, finds its
/// key recorded and counts as delivered without a second record.
package struct StorePayoutLedger: PayoutSink {
    let store: any SessionStore
    /// Who records, kept in each record (the server uses one name per data directory, stable
    /// across restarts, so it can copy its own records to its ledger file).
    let node: String
    let clock: any WallClock

    package init(store: any SessionStore, node: String, clock: any WallClock) {
        self.store = store
        self.node = node
        self.clock = clock
    }

    package func deliver(_ payout: Payout, idempotencyKey: String) async throws {
        _ = try await self.record(payout, idempotencyKey: idempotencyKey)
    }

    /// Records the payout; returns the record when this call made it, nil when the key was
    /// recorded before.
    package func record(_ payout: Payout, idempotencyKey: String) async throws -> PayoutDelivery? {
        let delivery = PayoutDelivery(
            idempotencyKey: idempotencyKey, org: payout.org, sessionID: payout.sessionID, testerID: payout.testerID,
            recordedBy: self.node, recordedAt: self.clock.now)
        do {
            try await self.store.commit(ChangeSet([.recordPayoutDelivery(delivery)]))
            return delivery
        } catch let error as ServiceError where error.code == .alreadyExists {
            return nil
        }
    }
}
