import Foundation
import Logging
import ServiceErrors
import SessionCore
import TestSupport
import Testing

/// Waits (in real time, at most `seconds`) until `condition` holds.
func eventually(within seconds: Double = 10, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw ServiceError(.deadlineExceeded, "condition not met in \(seconds) s") }
        try await Task.sleep(for: .milliseconds(2))
    }
}

@Suite("analysis worker")
struct AnalysisWorkerTests {
    /// A harness whose service goes through a fault-injecting store, and a session being analyzed.
    static func analyzing(_ kind: StoreKind) async throws -> (Harness, FaultInjectingStore, TestSession) {
        let base = try await Harness.make(kind)
        let store = FaultInjectingStore(base.store)
        let harness = Harness(store: store, clock: base.clock, service: SessionService(store: store, clock: base.clock))
        let session = try await harness.created()
        _ = try await harness.service.complete(session.id, completedAt: nil, by: Harness.researcher)
        let (analyzing, _) = try await harness.service.analyze(session.id, by: Harness.researcher)
        return (harness, store, analyzing)
    }

    @Test("while the store is down the worker backs off exponentially on the injected clock, then catches up",
          arguments: StoreKind.allCases)
    func backoffWhenStoreDown(kind: StoreKind) async throws {
        let (harness, store, session) = try await Self.analyzing(kind)
        store.fail(.claimAnalysisJobs)
        let worker = AnalysisWorker(service: harness.service, analyzer: LocalAnalyzer(), owner: "A", jitter: { 1 },
                                    logger: Logger(label: "t"))
        let running = Task { await worker.run() }
        defer { running.cancel() }
        // Each failed pass sleeps on the manual clock: 0.25 s, then 0.5 s, then 1 s. Nothing runs in between.
        var expectedCalls = 1
        for delay in [0.25, 0.5, 1.0] {
            try await eventually { store.calls(.claimAnalysisJobs) == expectedCalls && harness.clock.sleeperCount == 1 }
            harness.clock.advance(by: delay * 0.9)
            #expect(store.calls(.claimAnalysisJobs) == expectedCalls, "no pass before the backoff ends")
            harness.clock.advance(by: delay * 0.1)
            expectedCalls += 1
        }
        try await eventually { store.calls(.claimAnalysisJobs) == expectedCalls && harness.clock.sleeperCount == 1 }
        store.heal(.claimAnalysisJobs)
        harness.clock.advance(by: 2)
        try await eventually { try await harness.store.session(withID: session.id)?.status == .analyzed }
        running.cancel()
        await running.value
    }

    @Test("an analysis held by an instance that died is finished by another once the lease expires",
          arguments: StoreKind.allCases)
    func takeoverWhenLeaseExpired(kind: StoreKind) async throws {
        let (harness, _, session) = try await Self.analyzing(kind)
        let dead = try await harness.store.claimAnalysisJobs(
            JobClaim(owner: "dead", now: harness.clock.now, leaseDuration: 30, limit: 4))
        #expect(dead.map(\.sessionID) == [session.id])
        let worker = AnalysisWorker(service: harness.service, analyzer: LocalAnalyzer(), owner: "B", logger: Logger(label: "t"))
        #expect(try await worker.runOnce() == 0, "held by the dead instance's lease")
        harness.clock.advance(by: 30)
        #expect(try await worker.runOnce() == 1)
        #expect(try await harness.store.session(withID: session.id)?.status == .analyzed)
        #expect(try await harness.store.analysisJobs(limit: 4).isEmpty)
    }

    @Test("a store failure during an analysis is retried after its backoff; after the last attempt the session returns to completed",
          arguments: StoreKind.allCases)
    func failedAfterLastAttempt(kind: StoreKind) async throws {
        let (harness, store, session) = try await Self.analyzing(kind)
        let worker = AnalysisWorker(service: harness.service, analyzer: LocalAnalyzer(), owner: "A",
                                    policy: RetryPolicy(maxAttempts: 2, firstDelay: 1), jitter: { 1 }, logger: Logger(label: "t"))
        store.fail(.read, times: 2)  // the session read of both attempts
        #expect(try await worker.runOnce() == 1)
        let job = try #require(try await store.base.analysisJobs(limit: 4).first)
        #expect(job.status == .queued && job.attempts == 1 && job.lastError == "injected fault: read")
        #expect(try await worker.runOnce() == 0, "not before its backoff")
        harness.clock.advance(by: 1)
        #expect(try await worker.runOnce() == 1)
        let failed = try #require(try await store.base.session(withID: session.id))
        #expect(failed.status == .completed)
        #expect(failed.lastAnalysisError == "gave up after 2 attempts; last: injected fault: read")
        #expect(try await store.base.analysisJobs(limit: 4).map(\.status) == [.failed])
        // Asking again queues it afresh.
        _ = try await harness.service.analyze(session.id, by: Harness.researcher)
        #expect(try await worker.runOnce() == 1)
        #expect(try await store.base.session(withID: session.id)?.status == .analyzed)
    }
}
