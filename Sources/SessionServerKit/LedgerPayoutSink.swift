import Foundation
import Logging
import SessionCore

/// The default payout sink, a local ledger that pays once per idempotency key.
///
/// Its record of truth is `StorePayoutLedger`: the `payout_deliveries` table of the server's own
/// store (the SQLite file, or the PostgreSQL database every instance shares), keyed by the
/// payout ID. A table in the same database rather than a file in a shared directory, because it
/// needs nothing the instances do not already share, and its uniqueness holds across machines
/// (locks on network file systems do not, reliably).
///
/// Each instance also appends the records it made to its `payout-ledger.jsonl` (`PayoutJournal`)
/// for people and scripts to read. That copy is written after the table's commit: a crash in
/// between leaves a record out of the file, never in it twice.
final class LedgerPayoutSink: PayoutSink {
    private let ledger: StorePayoutLedger
    private let journal: PayoutJournal
    private let logger: Logger

    init(ledger: StorePayoutLedger, journal: PayoutJournal, logger: Logger) {
        self.ledger = ledger
        self.journal = journal
        self.logger = logger
    }

    func deliver(_ payout: Payout, idempotencyKey: String) async throws {
        guard let delivery = try await self.ledger.record(payout, idempotencyKey: idempotencyKey) else {
            self.logger.notice("payout was recorded before; not paid again", metadata: ["payout_id": "\(idempotencyKey)"])
            return
        }
        do {
            try await self.journal.append(delivery)
        } catch {
            // The payment is recorded (the table); only the readable copy is short of a line.
            self.logger.error("payout recorded, but not copied to the ledger file",
                              metadata: ["payout_id": "\(idempotencyKey)", "error": "\(error)"])
        }
    }
}
