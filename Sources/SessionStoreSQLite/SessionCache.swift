import SessionCore
import NIOConcurrencyHelpers

/// Sessions by ID, kept current by the writer after each commit. Bounded: at `limit` entries it
/// starts over empty (reads fall back to the database). Dropping a slice instead degenerated:
/// repeated partial evictions left long probe chains and lookups spent their time in memcmp.
final class SessionCache: Sendable {
    private let entries = NIOLockedValueBox<[String: TestSession]>([:])
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    func session(_ id: String) -> TestSession? {
        self.entries.withLockedValue { $0[id] }
    }

    /// After a commit: the committed state wins.
    func store(_ session: TestSession) {
        self.entries.withLockedValue { entries in
            self.makeRoom(&entries)
            entries[session.id] = session
        }
    }

    /// After a read: keep it unless a commit already stored something newer.
    func storeIfNewer(_ session: TestSession) {
        self.entries.withLockedValue { entries in
            if let current = entries[session.id], current.version >= session.version { return }
            self.makeRoom(&entries)
            entries[session.id] = session
        }
    }

    private func makeRoom(_ entries: inout [String: TestSession]) {
        guard entries.count >= self.limit else { return }
        entries.removeAll(keepingCapacity: true)
    }
}
