/// Serializes calls that carry the same (caller-scoped) idempotency key in this process: a
/// concurrent retry waits for the first call to finish and then replays its stored reply,
/// instead of running the mutation a second time.
///
/// Across instances the store's unique key decides (the second insert of a record fails and
/// the retry replays the stored reply); what a concurrent retry on another instance does before
/// that record exists is issue 16's open part (the key is not yet reserved in the mutation's
/// own transaction).
actor IdempotencyKeyLocks {
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// Runs `body` once no other call with `key` is running here.
    func withKey<Result: Sendable>(_ key: String, _ body: @Sendable () async throws -> Result) async throws -> Result {
        await self.acquire(key)
        do {
            let result = try await body()
            self.release(key)
            return result
        } catch {
            self.release(key)
            throw error
        }
    }

    private func acquire(_ key: String) async {
        guard self.waiting[key] != nil else {
            self.waiting[key] = []
            return
        }
        await withCheckedContinuation { continuation in self.waiting[key, default: []].append(continuation) }
    }

    private func release(_ key: String) {
        guard var queue = self.waiting[key], !queue.isEmpty else {
            self.waiting[key] = nil
            return
        }
        let next = queue.removeFirst()
        self.waiting[key] = queue
        next.resume()  // ownership passes to the next caller; the entry stays
    }
}
