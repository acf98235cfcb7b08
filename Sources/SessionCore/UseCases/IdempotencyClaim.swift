import NIOConcurrencyHelpers

/// An idempotency key a call claims together with its mutation: the use case's commit carries
/// the claim (an `IdempotencyRecord` with no reply yet) in the same transaction as the change, so
/// the mutation and the key are committed both or neither. A second call with the key — on this
/// instance or another, at the same moment or after a crash — fails to claim it, its own change
/// set rolls back, and it answers from the record instead of running again.
///
/// Set by the RPC layer around one call (`IdempotencyClaim.$current`); the use cases attach it
/// to the commit that makes their change, once.
package final class IdempotencyClaim: Sendable {
    @TaskLocal package static var current: IdempotencyClaim?

    package let record: IdempotencyRecord
    private let attached = NIOLockedValueBox(false)

    package init(_ record: IdempotencyRecord) {
        self.record = record
    }

    /// Whether a commit carrying the claim succeeded.
    package var isCommitted: Bool { self.attached.withLockedValue { $0 } }

    /// The change set with the claim added, unless an earlier commit already carried it.
    func attaching(to changes: ChangeSet) -> ChangeSet {
        guard !self.isCommitted else { return changes }
        var changes = changes
        changes.append(.insertIdempotencyRecord(self.record))
        return changes
    }

    func committed() {
        self.attached.withLockedValue { $0 = true }
    }
}

extension SessionService {
    /// Commits `changes`, with the current call's idempotency claim, if any, in the same
    /// transaction.
    func commit(_ changes: ChangeSet) async throws {
        guard let claim = IdempotencyClaim.current else {
            try await self.store.commit(changes)
            return
        }
        try await self.store.commit(claim.attaching(to: changes))
        claim.committed()
    }
}
