import Foundation
import RPCCore
import ServiceErrors
import SessionAPI
@testable import SessionCore
@testable import SessionRPC
import TestSupport
import Testing

/// A store whose commits that store an idempotency reply fail: the crash between a call's
/// mutation (committed with its key) and its reply, injected.
struct ReplyLosingStore: SessionStore {
    let base: any SessionStore

    func commit(_ changes: ChangeSet) async throws {
        if changes.changes.contains(where: { if case .completeIdempotencyRecord = $0 { true } else { false } }) {
            throw ServiceError(.unavailable, "injected: the process died before storing the reply")
        }
        try await self.base.commit(changes)
    }

    func session(withID id: String) async throws -> SessionCore.TestSession? { try await self.base.session(withID: id) }
    func session(org: String, jobID: String, testerID: String) async throws -> SessionCore.TestSession? {
        try await self.base.session(org: org, jobID: jobID, testerID: testerID)
    }
    func variantCounts(org: String, jobID: String) async throws -> [Variant: Int] {
        try await self.base.variantCounts(org: org, jobID: jobID)
    }
    func sessions(matching query: SessionQuery) async throws -> [SessionCore.TestSession] { try await self.base.sessions(matching: query) }
    func notes(sessionID: String) async throws -> [SessionCore.Note] { try await self.base.notes(sessionID: sessionID) }
    func notes(org: String, jobID: String) async throws -> [SessionCore.Note] { try await self.base.notes(org: org, jobID: jobID) }
    func feedback(sessionID: String) async throws -> SessionCore.Feedback? { try await self.base.feedback(sessionID: sessionID) }
    func analysis(sessionID: String) async throws -> SessionCore.Analysis? { try await self.base.analysis(sessionID: sessionID) }
    func completedDurations(org: String, jobID: String) async throws -> [Int64] {
        try await self.base.completedDurations(org: org, jobID: jobID)
    }
    func analysisJobs(limit: Int) async throws -> [AnalysisJob] { try await self.base.analysisJobs(limit: limit) }
    func payouts(matching query: PayoutQuery) async throws -> [SessionCore.Payout] { try await self.base.payouts(matching: query) }
    func payoutDeliveries(recordedBy: String?, limit: Int) async throws -> [PayoutDelivery] {
        try await self.base.payoutDeliveries(recordedBy: recordedBy, limit: limit)
    }
    func claimAnalysisJobs(_ claim: JobClaim) async throws -> [AnalysisJob] { try await self.base.claimAnalysisJobs(claim) }
    func claimPayouts(_ claim: JobClaim) async throws -> [SessionCore.Payout] { try await self.base.claimPayouts(claim) }
    func idempotencyRecord(org: String, key: String) async throws -> IdempotencyRecord? {
        try await self.base.idempotencyRecord(org: org, key: key)
    }
    func cachedSession(withID id: String) -> SessionCore.TestSession? { self.base.cachedSession(withID: id) }
}

@Suite("idempotency keys across a crash")
struct IdempotencyFaultTests {
    static func make(_ store: any SessionStore) -> (SessionService, SessionRPCProvider) {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_773_655_200))  // 2026-03-16T10:00:00Z
        let service = SessionService(store: store, clock: clock)
        return (service, SessionRPCProvider(service: service, store: store, clock: clock))
    }

    /// UpdateNotes creating one note with `content`, under idempotency key `key`, as `caller`.
    static func notesCall(_ sessionID: String, _ content: String, key: String, caller: Caller)
        -> (UpdateNotesRequest, CallContext)
    {
        var request = UpdateNotesRequest()
        request.sessionID = sessionID
        var note = UpdateNotesRequest.NoteUpdate()
        note.content = content
        request.notes = [note]
        var context = CallContext(method: SessionServiceMethods.updateNotes, metadata: Metadata([("idempotency-key", key)]))
        context.caller = caller
        return (request, context)
    }

    @Test("a crash between the mutation and its reply: the retry never runs the call again", arguments: StoreKind.allCases)
    func retryWhenReplyLost(kind: StoreKind) async throws {
        let (service, provider) = Self.make(ReplyLosingStore(base: try await kind.makeStore()))
        let researcher = Principal(subject: "r1", role: .researcher, org: "org1")
        let session = try await service.create(jobID: "job1", testerID: "t1", variant: "A", by: researcher)
        let (request, context) = Self.notesCall(
            session.id, "written once", key: "k1", caller: Caller(subject: "r1", role: "researcher", org: "org1")
        )

        let first = try await provider.updateNotes(request, context: context)
        #expect(first.createdCount == 1)
        await #expect {
            _ = try await provider.updateNotes(request, context: context)
        } throws: { error in
            (error as? ServiceError)?.code == .aborted
        }
        let notes = try await service.notes(session.id, by: researcher)
        #expect(notes.filter { $0.content == "written once" }.count == 1, "the retry ran the call again: \(notes)")
    }

    @Test("a stored reply is replayed only to a caller who may still do what the call did", arguments: StoreKind.allCases)
    func replayWhenRoleChanged(kind: StoreKind) async throws {
        let (service, provider) = Self.make(try await kind.makeStore())
        let session = try await service.create(
            jobID: "job1", testerID: "t1", variant: "A", by: Principal(subject: "svc", role: .service, org: "org1")
        )
        let (request, asResearcher) = Self.notesCall(
            session.id, "by a researcher", key: "k", caller: Caller(subject: "u1", role: "researcher", org: "org1")
        )
        var context = asResearcher
        _ = try await provider.updateNotes(request, context: context)
        // The same subject and key, now with a tester's token: no replay of the researcher's reply.
        context.caller = Caller(subject: "u1", role: "tester", org: "org1")
        await #expect {
            _ = try await provider.updateNotes(request, context: context)
        } throws: { error in
            let code = (error as? ServiceError)?.code
            return code == .permissionDenied || code == .notFound
        }
    }
}
