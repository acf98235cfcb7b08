import Foundation
import Logging
import ServiceErrors
import SessionCore
import NIOConcurrencyHelpers
import TestSupport
import Testing

/// A sink that fails its first `failures` deliveries, and remembers every call.
final class FlakySink: PayoutSink {
    private let remaining: NIOLockedValueBox<Int>
    private let keys = NIOLockedValueBox<[String]>([])

    init(failures: Int) {
        self.remaining = NIOLockedValueBox(failures)
    }

    var calls: [String] { self.keys.withLockedValue { $0 } }

    func deliver(_ payout: Payout, idempotencyKey: String) async throws {
        self.keys.withLockedValue { $0.append(idempotencyKey) }
        let fail = self.remaining.withLockedValue { remaining in
            defer { remaining -= 1 }
            return remaining > 0
        }
        if fail { throw ServiceError(.unavailable, "provider down") }
    }
}

@Suite("payout dispatcher")
struct PayoutDispatcherTests {
    static func queuedPayout(_ harness: Harness) async throws -> Payout {
        let session = try await harness.created()
        let payout = Payout(id: "pay_1", org: session.org, sessionID: session.id, testerID: session.testerID, createdAt: harness.clock.now)
        try await harness.store.commit(ChangeSet([.insertPayout(payout)]))
        return payout
    }

    static func stored(_ harness: Harness) async throws -> Payout {
        try #require(try await harness.store.payouts(matching: PayoutQuery(org: "org1", limit: 10)).first)
    }

    @Test("a failed delivery waits out its backoff on the injected clock, doubling, then is delivered", arguments: StoreKind.allCases)
    func retryAfterBackoff(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        _ = try await Self.queuedPayout(harness)
        let sink = FlakySink(failures: 2)
        let dispatcher = PayoutDispatcher(
            store: harness.store, sink: sink, clock: harness.clock, owner: "A",
            policy: RetryPolicy(maxAttempts: 5, firstDelay: 1, maxDelay: 60), jitter: { 1 }, logger: Logger(label: "t"))
        let start = harness.clock.now
        #expect(try await dispatcher.runOnce() == 1)
        var payout = try await Self.stored(harness)
        #expect(payout.status == .queued && payout.attempts == 1 && payout.lastError == "provider down")
        #expect(payout.nextAttemptAt == start.addingTimeInterval(1))
        #expect(try await dispatcher.runOnce() == 0, "not before its backoff")
        harness.clock.advance(by: 0.5)
        #expect(try await dispatcher.runOnce() == 0)
        harness.clock.advance(by: 0.5)
        #expect(try await dispatcher.runOnce() == 1)
        payout = try await Self.stored(harness)
        #expect(payout.attempts == 2 && payout.nextAttemptAt == start.addingTimeInterval(3), "the delay doubled to 2 s")
        harness.clock.advance(by: 1.9)
        #expect(try await dispatcher.runOnce() == 0)
        harness.clock.advance(by: 0.1)
        #expect(try await dispatcher.runOnce() == 1)
        payout = try await Self.stored(harness)
        #expect(payout.status == .delivered && payout.attempts == 3 && payout.deliveredAt == harness.clock.now)
        #expect(sink.calls == ["pay_1", "pay_1", "pay_1"], "always with the payout ID as the idempotency key")
    }

    @Test("a payout that keeps failing is recorded failed after the last attempt, with the error", arguments: StoreKind.allCases)
    func failedAfterLastAttempt(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        _ = try await Self.queuedPayout(harness)
        let sink = FlakySink(failures: .max)
        let dispatcher = PayoutDispatcher(
            store: harness.store, sink: sink, clock: harness.clock, owner: "A",
            policy: RetryPolicy(maxAttempts: 3), logger: Logger(label: "t"))
        for _ in 0..<5 {
            try await dispatcher.runOnce()
            harness.clock.advance(by: 600)
        }
        let payout = try await Self.stored(harness)
        #expect(payout.status == .failed && payout.attempts == 3)
        #expect(payout.lastError == "gave up after 3 attempts; last: provider down")
        #expect(sink.calls.count == 3)
    }
}
