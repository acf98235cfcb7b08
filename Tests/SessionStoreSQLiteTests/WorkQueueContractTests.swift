import Foundation
import Logging
import ServiceErrors
import SessionCore
import NIOConcurrencyHelpers
import TestSupport
import Testing

/// The work queues (payouts, analysis jobs) behave the same on every backend.
@Suite("work queue contract")
struct WorkQueueContractTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// `count` sessions with a queued payout each (`pay0`, `pay1`, …), due at `t0`.
    static func seedPayouts(_ store: any SessionStore, count: Int, dueAt: (Int) -> Date = { _ in t0 }) async throws {
        var changes = ChangeSet()
        for index in 0..<count {
            changes.append(.insertSession(SQLiteSessionStoreTests.session("s\(index)", tester: "t\(index)")))
            var payout = Payout(id: "pay\(index)", org: "o", sessionID: "s\(index)", testerID: "t\(index)", createdAt: t0)
            payout.nextAttemptAt = dueAt(index)
            changes.append(.insertPayout(payout))
        }
        try await store.commit(changes)
    }

    static func payouts(_ store: any SessionStore) async throws -> [String: Payout] {
        let all = try await store.payouts(matching: PayoutQuery(org: "o", limit: 10_000))
        return Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
    }

    static func claim(_ store: any SessionStore, _ owner: String, at seconds: TimeInterval, limit: Int = 10) async throws -> [Payout] {
        try await store.claimPayouts(JobClaim(owner: owner, now: t0.addingTimeInterval(seconds), leaseDuration: 30, limit: limit))
            .sorted { $0.id < $1.id }
    }

    static func finish(_ store: any SessionStore, _ id: String, _ lease: JobLease, _ outcome: JobOutcome) async throws {
        try await store.commit(ChangeSet([.finishPayout(id: id, lease: lease, outcome: outcome)]))
    }

    static func expectAborted(_ body: () async throws -> Void) async {
        await #expect { try await body() } throws: { ($0 as? ServiceError)?.code == .aborted }
    }

    @Test("a claim takes due payouts only, holds them under a lease, and counts the attempt", arguments: StoreKind.allCases)
    func claimWhenDue(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        try await Self.seedPayouts(store, count: 3) { $0 == 2 ? Self.t0.addingTimeInterval(60) : Self.t0 }
        let claimed = try await Self.claim(store, "A", at: 0)
        #expect(claimed.map(\.id) == ["pay0", "pay1"])
        for payout in claimed {
            #expect(payout.status == .claimed && payout.leaseOwner == "A" && payout.attempts == 1)
            #expect(payout.nextAttemptAt == Self.t0.addingTimeInterval(30), "claimed until the lease expires")
        }
        #expect(try await Self.claim(store, "B", at: 29).isEmpty, "held by A's lease")
        #expect(try await Self.claim(store, "A", at: 29).isEmpty, "not even A claims a payout twice")
        #expect(try await Self.payouts(store)["pay2"]?.status == .queued)
    }

    @Test("an expired lease is taken over; the old holder's late update changes nothing", arguments: StoreKind.allCases)
    func claimWhenLeaseExpired(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        try await Self.seedPayouts(store, count: 1)
        let first = try #require(try await Self.claim(store, "A", at: 0).first)
        let taken = try #require(try await Self.claim(store, "B", at: 30).first, "A's lease expired at 30 s")
        #expect(taken.leaseOwner == "B" && taken.attempts == 2)
        await Self.expectAborted { try await Self.finish(store, "pay0", first.lease, .done(at: Self.t0)) }
        await Self.expectAborted {
            try await Self.finish(store, "pay0", JobLease(owner: "A", attempt: 2), .done(at: Self.t0))
        }
        try await Self.finish(store, "pay0", taken.lease, .done(at: Self.t0.addingTimeInterval(31)))
        let stored = try #require(try await Self.payouts(store)["pay0"])
        #expect(stored.status == .delivered && stored.deliveredAt == Self.t0.addingTimeInterval(31))
        await Self.expectAborted { try await Self.finish(store, "pay0", taken.lease, .failed(error: "late")) }
        #expect(try await Self.payouts(store)["pay0"]?.status == .delivered, "a delivered payout stays delivered")
        #expect(try await Self.claim(store, "C", at: 1_000).isEmpty)
    }

    @Test("a retry waits for its backoff; a failed payout is recorded and never claimed again", arguments: StoreKind.allCases)
    func finishWhenRetriedThenFailed(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        try await Self.seedPayouts(store, count: 1)
        let first = try #require(try await Self.claim(store, "A", at: 0).first)
        try await Self.finish(store, "pay0", first.lease, .retry(at: Self.t0.addingTimeInterval(5), error: "sink down"))
        let queued = try #require(try await Self.payouts(store)["pay0"])
        #expect(queued.status == .queued && queued.lastError == "sink down" && queued.nextAttemptAt == Self.t0.addingTimeInterval(5))
        await Self.expectAborted { try await Self.finish(store, "pay0", first.lease, .done(at: Self.t0)) }
        #expect(try await Self.claim(store, "A", at: 4.9).isEmpty, "not before its next attempt time")
        let second = try #require(try await Self.claim(store, "B", at: 5).first)
        #expect(second.attempts == 2 && second.lastError == "sink down")
        try await Self.finish(store, "pay0", second.lease, .failed(error: "gave up"))
        let failed = try #require(try await Self.payouts(store)["pay0"])
        #expect(failed.status == .failed && failed.lastError == "gave up" && failed.deliveredAt == nil)
        #expect(try await Self.claim(store, "C", at: 100_000).isEmpty)
    }

    @Test("analysis jobs: claimed under a lease, taken over, retried, failed, queued again afresh", arguments: StoreKind.allCases)
    func analysisJobLifecycle(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        try await store.commit(ChangeSet([
            .insertSession(SQLiteSessionStoreTests.session("s1")),
            .enqueueAnalysis(AnalysisJob(sessionID: "s1", queuedAt: Self.t0)),
        ]))
        func claim(_ owner: String, at seconds: TimeInterval) async throws -> [AnalysisJob] {
            try await store.claimAnalysisJobs(JobClaim(owner: owner, now: Self.t0.addingTimeInterval(seconds), leaseDuration: 30, limit: 4))
        }
        func finish(_ lease: JobLease, _ outcome: JobOutcome) async throws {
            try await store.commit(ChangeSet([.finishAnalysisJob(sessionID: "s1", lease: lease, outcome: outcome)]))
        }
        let first = try #require(try await claim("A", at: 0).first)
        #expect(first.status == .claimed && first.attempts == 1 && first.leaseOwner == "A")
        #expect(try await claim("B", at: 10).isEmpty)
        let taken = try #require(try await claim("B", at: 30).first)
        #expect(taken.attempts == 2 && taken.leaseOwner == "B")
        await Self.expectAborted { try await finish(first.lease, .done(at: Self.t0)) }
        try await finish(taken.lease, .retry(at: Self.t0.addingTimeInterval(40), error: "store down"))
        #expect(try await claim("A", at: 39).isEmpty)
        let third = try #require(try await claim("A", at: 40).first)
        #expect(third.attempts == 3 && third.lastError == "store down")
        try await finish(third.lease, .failed(error: "gave up"))
        #expect(try await store.analysisJobs(limit: 5).map(\.status) == [.failed])
        #expect(try await claim("A", at: 100_000).isEmpty)
        // Analyzing again queues the job afresh.
        try await store.commit(ChangeSet([.enqueueAnalysis(AnalysisJob(sessionID: "s1", queuedAt: Self.t0.addingTimeInterval(50)))]))
        let again = try #require(try await claim("A", at: 50).first)
        #expect(again.attempts == 1 && again.lastError == nil)
        try await finish(again.lease, .done(at: Self.t0.addingTimeInterval(51)))
        #expect(try await store.analysisJobs(limit: 5).isEmpty, "a finished job is removed")
        await Self.expectAborted { try await finish(again.lease, .done(at: Self.t0)) }
    }

    @Test("the ledger records a payout once per idempotency key, whoever delivers it", arguments: StoreKind.allCases)
    func ledgerOncePerKey(kind: StoreKind) async throws {
        let stores = try await kind.makeStores(count: 2)
        try await Self.seedPayouts(stores[0], count: 1)
        let payout = try #require(try await Self.payouts(stores[0])["pay0"])
        let clock = ManualClock(Self.t0)
        let a = StorePayoutLedger(store: stores[0], node: "A", clock: clock)
        let b = StorePayoutLedger(store: stores[1], node: "B", clock: clock)
        #expect(try await a.record(payout, idempotencyKey: payout.id)?.recordedBy == "A")
        #expect(try await b.record(payout, idempotencyKey: payout.id) == nil, "recorded before: not again")
        try await b.deliver(payout, idempotencyKey: payout.id)  // a repeated key counts as delivered
        let deliveries = try await stores[1].payoutDeliveries(recordedBy: nil, limit: 10)
        #expect(deliveries.map(\.idempotencyKey) == ["pay0"] && deliveries[0].recordedBy == "A")
        #expect(try await stores[1].payoutDeliveries(recordedBy: "B", limit: 10).isEmpty)
        #expect(try await stores[1].payoutDeliveries(recordedBy: "A", limit: 10).count == 1)
    }

    @Test("a payout whose holder died after paying is finished by the instance that takes it over, paid once",
          arguments: StoreKind.allCases)
    func takeoverAfterDelivery(kind: StoreKind) async throws {
        let stores = try await kind.makeStores(count: 2)
        try await Self.seedPayouts(stores[0], count: 1)
        let clock = ManualClock(Self.t0)
        // A claims and pays, then dies before recording the outcome.
        let held = try #require(try await Self.claim(stores[0], "A", at: 0).first)
        try await StorePayoutLedger(store: stores[0], node: "A", clock: clock).deliver(held, idempotencyKey: held.id)
        // B's dispatcher sees nothing until A's lease expires, then finishes the payout.
        let sink = CountingSink(StorePayoutLedger(store: stores[1], node: "B", clock: clock))
        let dispatcher = PayoutDispatcher(store: stores[1], sink: sink, clock: clock, owner: "B", logger: Logger(label: "t"))
        #expect(try await dispatcher.runOnce() == 0)
        clock.advance(by: 30)
        #expect(try await dispatcher.runOnce() == 1)
        let stored = try #require(try await Self.payouts(stores[1])["pay0"])
        #expect(stored.status == .delivered && stored.leaseOwner == "B" && stored.attempts == 2)
        #expect(sink.calls == ["pay0": 1])
        let deliveries = try await stores[1].payoutDeliveries(recordedBy: nil, limit: 10)
        #expect(deliveries.map(\.idempotencyKey) == ["pay0"] && deliveries[0].recordedBy == "A", "one record, A's")
    }

    @Test("dispatchers of two instances claiming concurrently deliver every payout exactly once",
          arguments: StoreKind.allCases)
    func concurrentDispatchers(kind: StoreKind) async throws {
        let count = 300
        let stores = try await kind.makeStores(count: 2)
        try await Self.seedPayouts(stores[0], count: count)
        let clock = ManualClock(Self.t0)
        let sink = CountingSink(nil)
        // Two instances, two dispatchers each (as if each ran two passes at once).
        let owners = ["A1", "A2", "B1", "B2"]
        let started = ContinuousClock.now
        let perOwner = try await withThrowingTaskGroup(of: (String, Int).self) { group in
            for (index, owner) in owners.enumerated() {
                let store = stores[index / 2]
                let ledger = StorePayoutLedger(store: store, node: owner, clock: clock)
                let dispatcher = PayoutDispatcher(
                    store: store, sink: CountingSink(ledger, parent: sink), clock: clock, owner: owner, logger: Logger(label: "t"))
                group.addTask {
                    var total = 0
                    while true {
                        let taken = try await dispatcher.runOnce()
                        if taken == 0 { return (owner, total) }
                        total += taken
                    }
                }
            }
            var perOwner: [String: Int] = [:]
            for try await (owner, total) in group { perOwner[owner] = total }
            return perOwner
        }
        let payouts = try await Self.payouts(stores[1])
        #expect(payouts.count == count && payouts.values.allSatisfy { $0.status == .delivered && $0.attempts == 1 })
        let calls = sink.calls
        #expect(calls.count == count && calls.values.allSatisfy { $0 == 1 }, "each payout handed to the sink once")
        let deliveries = try await stores[0].payoutDeliveries(recordedBy: nil, limit: 10_000)
        #expect(deliveries.count == count && Set(deliveries.map(\.idempotencyKey)).count == count)
        #expect(perOwner.values.reduce(0, +) == count, "\(perOwner)")
        let elapsed = ContinuousClock.now - started
        print("\(kind): \(count) payouts delivered in \(elapsed), claimed per dispatcher: \(perOwner.sorted { $0.key < $1.key })")
    }
}

/// Counts deliveries by idempotency key (into `parent` too, when given) and passes them on.
final class CountingSink: PayoutSink {
    private let next: (any PayoutSink)?
    private let parent: CountingSink?
    private let counts = NIOLockedValueBox<[String: Int]>([:])

    init(_ next: (any PayoutSink)?, parent: CountingSink? = nil) {
        self.next = next
        self.parent = parent
    }

    var calls: [String: Int] { self.counts.withLockedValue { $0 } }

    func deliver(_ payout: Payout, idempotencyKey: String) async throws {
        self.counts.withLockedValue { $0[idempotencyKey, default: 0] += 1 }
        self.parent?.counts.withLockedValue { $0[idempotencyKey, default: 0] += 1 }
        try await self.next?.deliver(payout, idempotencyKey: idempotencyKey)
    }
}
