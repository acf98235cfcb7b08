import Foundation
import ServiceErrors
@testable import SessionCore
import TestSupport
import Testing

/// An idempotency key is claimed in the same transaction as the mutation: both or neither.
@Suite("idempotency claims commit with their mutation")
struct IdempotencyClaimTests {
    static func claim(_ key: String, org: String = "org1") -> IdempotencyClaim {
        IdempotencyClaim(IdempotencyRecord(org: org, key: key, fingerprint: "f", reply: [], createdAt: .testEpoch))
    }

    @Test("a call's claim is committed with its change, once, with no reply yet", arguments: StoreKind.allCases)
    func commitWhenClaimed(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let session = try await harness.created()
        let claim = Self.claim("k1")
        let paused = try await IdempotencyClaim.$current.withValue(claim) {
            try await harness.service.pause(session.id, by: Harness.researcher)
        }
        #expect(paused.status == .paused)
        #expect(claim.isCommitted)
        let record = try #require(try await harness.store.idempotencyRecord(org: "org1", key: "k1"))
        #expect(!record.isComplete)
        try await harness.store.commit(ChangeSet([.completeIdempotencyRecord(org: "org1", key: "k1", reply: [7, 8])]))
        #expect(try await harness.store.idempotencyRecord(org: "org1", key: "k1")?.reply == [7, 8])
    }

    @Test("a second call claiming the same key changes nothing: its change rolls back with the claim",
          arguments: StoreKind.allCases)
    func commitWhenKeyClaimed(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let session = try await harness.created()
        _ = try await IdempotencyClaim.$current.withValue(Self.claim("k2")) {
            try await harness.service.pause(session.id, by: Harness.researcher)
        }
        let second = Self.claim("k2")
        await #expect {
            _ = try await IdempotencyClaim.$current.withValue(second) {
                try await harness.service.resume(session.id, by: Harness.researcher)
            }
        } throws: { ($0 as? ServiceError)?.code == .alreadyExists }
        #expect(!second.isCommitted)
        #expect(try await harness.service.session(session.id, by: Harness.researcher).status == .paused)
        // A create under a claimed key leaves no session behind either.
        await #expect(throws: ServiceError.self) {
            _ = try await IdempotencyClaim.$current.withValue(Self.claim("k2")) {
                try await harness.service.create(jobID: "job9", testerID: "t9", variant: "A", by: Harness.service)
            }
        }
        let listed = try await harness.service.sessions(
            jobID: "job9", testerID: nil, status: nil, pageSize: 10, after: nil, by: Harness.service
        )
        #expect(listed.sessions.isEmpty)
    }
}

@Suite("idempotency records expire")
struct IdempotencyPrunerTests {
    @Test("records older than the time to live are deleted; younger ones stay", arguments: StoreKind.allCases)
    func pruneWhenExpired(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        for (key, age) in [("old", 25 * 3600.0), ("young", 23 * 3600.0)] {
            try await harness.store.commit(ChangeSet([.insertIdempotencyRecord(IdempotencyRecord(
                org: "org1", key: key, fingerprint: "f", reply: [1], createdAt: Date.testEpoch - age
            ))]))
        }
        try await IdempotencyPruner(store: harness.store, clock: harness.clock, logger: .init(label: "t")).runOnce()
        #expect(try await harness.store.idempotencyRecord(org: "org1", key: "old") == nil)
        #expect(try await harness.store.idempotencyRecord(org: "org1", key: "young") != nil)
    }
}
