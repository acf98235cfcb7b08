import Foundation
import ServiceErrors
@testable import SessionCore
import TestSupport
import Testing

/// The use cases against each real store (a fresh SQLite file or PostgreSQL database per test).
struct Harness {
    let store: any SessionStore
    let clock: ManualClock
    let service: SessionService

    static func make(_ kind: StoreKind) async throws -> Harness {
        let clock = ManualClock(.testEpoch)
        let store = try await kind.makeStore()
        return Harness(store: store, clock: clock, service: SessionService(store: store, clock: clock))
    }

    static let researcher = Principal(subject: "r1", role: .researcher, org: "org1")
    static let service = Principal(subject: "svc", role: .service, org: "org1")
    static let admin = Principal(subject: "a1", role: .admin, org: "org1")
    static func tester(_ id: String = "t1", org: String = "org1") -> Principal { Principal(subject: id, role: .tester, org: org) }

    func created(_ tester: String = "t1", job: String = "job1") async throws -> TestSession {
        try await self.service.create(jobID: job, testerID: tester, variant: "", by: Self.service)
    }

    /// A session taken to `analyzed` through the worker.
    func analyzed(_ tester: String = "t1") async throws -> TestSession {
        let session = try await self.created(tester)
        _ = try await self.service.complete(session.id, completedAt: nil, by: Self.researcher)
        _ = try await self.service.analyze(session.id, by: Self.researcher)
        try await AnalysisWorker(service: self.service, analyzer: LocalAnalyzer(), logger: .init(label: "t")).runOnce()
        return try await self.service.session(session.id, by: Self.researcher)
    }
}

func expectError(_ code: ServiceError.Code, field: String? = nil, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(code.name), but it succeeded")
    } catch let error as ServiceError {
        #expect(error.code == code, "\(error)")
        if let field { #expect(error.fieldViolations.contains { $0.field == field }, "\(error.fieldViolations)") }
    } catch {
        Issue.record("expected a ServiceError, got \(error)")
    }
}

@Suite("session use cases")
struct SessionServiceTests {
    @Test("create validates its fields, naming each", arguments: StoreKind.allCases, [
        ("", "t1", "", "jobId"), ("j", "", "", "testerId"), ("j j", "t1", "", "jobId"),
        (String(repeating: "x", count: 129), "t1", "", "jobId"), ("j", "t\u{7}", "", "testerId"), ("j", "t1", "C", "variant"),
    ])
    func createValidation(kind: StoreKind, row: (job: String, tester: String, variant: String, field: String)) async throws {
        let (job, tester, variant, field) = row
        let harness = try await Harness.make(kind)
        await expectError(.invalidArgument, field: field) {
            _ = try await harness.service.create(jobID: job, testerID: tester, variant: variant, by: Harness.service)
        }
    }

    @Test("a new session is active, started now, with a prefixed time-sortable ID", arguments: StoreKind.allCases)
    func createSession(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let session = try await harness.service.create(jobID: "job1", testerID: "t1", variant: "B", by: Harness.service)
        #expect(session.status == .active && session.variant == .b)
        #expect(session.createdAt == .testEpoch && session.startedAt == .testEpoch)
        #expect(session.id.hasPrefix("sess_") && session.id.count == 31)
        harness.clock.advance(by: 1)
        let later = try await harness.created("t2")
        #expect(later.id > session.id, "IDs sort by creation time")
    }

    @Test("a second session for the same (org, job, tester) is ALREADY_EXISTS naming the first", arguments: StoreKind.allCases)
    func duplicateCreate(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let first = try await harness.created()
        do {
            _ = try await harness.created()
            Issue.record("duplicate accepted")
        } catch let error as ServiceError {
            #expect(error.code == .alreadyExists && error.message.contains(first.id))
        }
        // Another org may use the same job and tester IDs; it learns nothing of the first.
        let other = try await harness.service.create(jobID: "job1", testerID: "t1", variant: "",
                                                     by: Principal(subject: "s", role: .service, org: "org2"))
        #expect(other.id != first.id)
    }

    @Test("omitted variants keep each job's A and B counts balanced", arguments: StoreKind.allCases)
    func variantBalancing(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        var counts: [Variant: Int] = [:]
        for index in 0..<20 {
            let session = try await harness.created("tester\(index)")
            counts[session.variant, default: 0] += 1
        }
        #expect(counts[.a] == 10 && counts[.b] == 10)
    }

    @Test("a tester may create a session only for themselves", arguments: StoreKind.allCases)
    func testerCreatesOwn(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        _ = try await harness.service.create(jobID: "j", testerID: "t1", variant: "", by: Harness.tester("t1"))
        await expectError(.permissionDenied) {
            _ = try await harness.service.create(jobID: "j", testerID: "t2", variant: "", by: Harness.tester("t1"))
        }
    }

    @Test("other orgs and other testers see NOT_FOUND; a visible but forbidden action is PERMISSION_DENIED", arguments: StoreKind.allCases)
    func visibility(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let session = try await harness.created("t1")
        await expectError(.notFound) {
            _ = try await harness.service.session(session.id, by: Principal(subject: "r", role: .researcher, org: "org2"))
        }
        await expectError(.notFound) { _ = try await harness.service.session(session.id, by: Harness.tester("t2")) }
        _ = try await harness.service.session(session.id, by: Harness.tester("t1"))
        await expectError(.permissionDenied) { _ = try await harness.service.notes(session.id, by: Harness.tester("t1")) }
        await expectError(.notFound) { _ = try await harness.service.session("sess_nope", by: Harness.researcher) }
    }

    @Test("pause and resume follow the lifecycle; duration excludes the pause", arguments: StoreKind.allCases)
    func pauseResume(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let session = try await harness.created()
        harness.clock.advance(by: 60)
        _ = try await harness.service.pause(session.id, by: Harness.tester())
        await expectError(.failedPrecondition) { _ = try await harness.service.pause(session.id, by: Harness.tester()) }
        harness.clock.advance(by: 600)
        _ = try await harness.service.resume(session.id, by: Harness.tester())
        harness.clock.advance(by: 30)
        let completed = try await harness.service.complete(session.id, completedAt: nil, by: Harness.tester())
        #expect(completed.durationSeconds(at: harness.clock.now) == 90)
        let stored = try await harness.store.session(withID: session.id)
        #expect(stored == completed, "what was acknowledged is what is stored")
    }

    @Test("a note batch applies atomically: an unknown note ID changes nothing", arguments: StoreKind.allCases)
    func noteBatchAtomicity(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let session = try await harness.created()
        let (_, created) = try await harness.service.updateNotes(
            session.id, edits: [.init(noteID: "", content: "first"), .init(noteID: "", content: "second")],
            by: Harness.researcher)
        #expect(created == 2)
        let notes = try await harness.service.notes(session.id, by: Harness.researcher)
        #expect(notes.map(\.content) == ["first", "second"] && notes.allSatisfy { $0.authorID == "r1" })
        await expectError(.notFound, field: "notes[1].noteId") {
            _ = try await harness.service.updateNotes(
                session.id, edits: [.init(noteID: notes[0].id, content: "changed"), .init(noteID: "note_nope", content: "x"),
                                    .init(noteID: "", content: "third")],
                by: Harness.researcher)
        }
        #expect(try await harness.service.notes(session.id, by: Harness.researcher).map(\.content) == ["first", "second"])
        let (updated, added) = try await harness.service.updateNotes(
            session.id, edits: [.init(noteID: notes[1].id, content: "second, edited"), .init(noteID: "", content: "third")],
            by: Harness.researcher)
        #expect(updated == 1 && added == 1)
        #expect(try await harness.service.notes(session.id, by: Harness.researcher).map(\.content)
            == ["first", "second, edited", "third"])
    }

    @Test("note limits: 1 to 10,000 characters, at most 100 per batch", arguments: StoreKind.allCases, [
        (0, 1, "notes[0].content"), (10_001, 1, "notes[0].content"), (10, 101, "notes"), (10, 0, "notes"),
    ])
    func noteLimits(kind: StoreKind, row: (length: Int, count: Int, field: String)) async throws {
        let (length, count, field) = row
        let harness = try await Harness.make(kind)
        let session = try await harness.created()
        let edits = (0..<count).map { _ in SessionService.NoteEdit(noteID: "", content: String(repeating: "n", count: length)) }
        await expectError(.invalidArgument, field: field) {
            _ = try await harness.service.updateNotes(session.id, edits: edits, by: Harness.researcher)
        }
    }

    @Test("confirm needs analyzed and a 1–5 rating, queues exactly one payout, and never a second", arguments: StoreKind.allCases)
    func confirmExactlyOnce(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let fresh = try await harness.created("t9")
        await expectError(.failedPrecondition) {
            _ = try await harness.service.confirm(fresh.id, rating: 5, comment: "", by: Harness.researcher)
        }
        let session = try await harness.analyzed()
        #expect(session.status == .analyzed)
        await expectError(.invalidArgument, field: "rating") {
            _ = try await harness.service.confirm(session.id, rating: nil, comment: "", by: Harness.researcher)
        }
        await expectError(.invalidArgument, field: "rating") {
            _ = try await harness.service.confirm(session.id, rating: 6, comment: "", by: Harness.researcher)
        }
        await expectError(.invalidArgument, field: "comment") {
            _ = try await harness.service.confirm(session.id, rating: 5, comment: String(repeating: "c", count: 2001), by: Harness.researcher)
        }
        await expectError(.permissionDenied) {
            _ = try await harness.service.confirm(session.id, rating: 5, comment: "", by: Harness.service)
        }
        // Many concurrent confirmations: one wins, the rest see the new state.
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask { (try? await harness.service.confirm(session.id, rating: 4, comment: "", by: Harness.researcher)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        let payouts = try await harness.store.payouts(matching: PayoutQuery(org: "org1", limit: 100))
        #expect(payouts.count == 1 && payouts[0].sessionID == session.id && payouts[0].testerID == "t1")
    }

    @Test("feedback needs completed or later, validates its fields, and is taken once", arguments: StoreKind.allCases)
    func feedbackOnce(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let session = try await harness.created()
        await expectError(.failedPrecondition) {
            _ = try await harness.service.submitFeedback(session.id, clarity: 4, difficulty: 3, technicalIssues: false, comment: "", by: Harness.tester())
        }
        _ = try await harness.service.complete(session.id, completedAt: nil, by: Harness.tester())
        await expectError(.invalidArgument, field: "clarity") {
            _ = try await harness.service.submitFeedback(session.id, clarity: nil, difficulty: 3, technicalIssues: false, comment: "", by: Harness.tester())
        }
        await expectError(.invalidArgument, field: "difficulty") {
            _ = try await harness.service.submitFeedback(session.id, clarity: 3, difficulty: 0, technicalIssues: false, comment: "", by: Harness.tester())
        }
        await expectError(.invalidArgument, field: "technicalIssues") {
            _ = try await harness.service.submitFeedback(session.id, clarity: 3, difficulty: 3, technicalIssues: nil, comment: "", by: Harness.tester())
        }
        await expectError(.permissionDenied) {
            _ = try await harness.service.submitFeedback(session.id, clarity: 3, difficulty: 3, technicalIssues: true, comment: "", by: Harness.researcher)
        }
        let feedback = try await harness.service.submitFeedback(session.id, clarity: 4, difficulty: 2, technicalIssues: true, comment: "ok", by: Harness.tester())
        #expect(feedback.id.hasPrefix("fb_"))
        await expectError(.alreadyExists) {
            _ = try await harness.service.submitFeedback(session.id, clarity: 4, difficulty: 2, technicalIssues: true, comment: "ok", by: Harness.tester())
        }
    }

    @Test("analysis runs in the worker and moves the session to analyzed with a stored analysis", arguments: StoreKind.allCases)
    func analysisFlow(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let session = try await harness.created()
        _ = try await harness.service.updateNotes(
            session.id, edits: [.init(noteID: "", content: "The page froze and showed an error. Tester gave up.")],
            by: Harness.researcher)
        await expectError(.failedPrecondition) { _ = try await harness.service.analyze(session.id, by: Harness.researcher) }
        _ = try await harness.service.complete(session.id, completedAt: nil, by: Harness.tester())
        let (analyzing, estimate) = try await harness.service.analyze(session.id, by: Harness.researcher)
        #expect(analyzing.status == .analyzing && estimate >= 1)
        await expectError(.failedPrecondition) { _ = try await harness.service.analysis(session.id, by: Harness.researcher) }
        try await AnalysisWorker(service: harness.service, analyzer: LocalAnalyzer(), logger: .init(label: "t")).runOnce()
        #expect(try await harness.service.session(session.id, by: Harness.researcher).status == .analyzed)
        let analysis = try await harness.service.analysis(session.id, by: Harness.researcher)
        #expect(analysis.frictionPoints.first?.category == "bug" && analysis.frictionPoints.first?.severity == "high")
        #expect(analysis.sentimentLabel == "negative")
        #expect(try await harness.store.analysisJobs(limit: 10).isEmpty, "a finished job is removed")
    }

    @Test("a failing analyzer returns the session to completed with the error recorded", arguments: StoreKind.allCases)
    func analysisFailure(kind: StoreKind) async throws {
        struct Broken: Analyzer {
            func analyze(_ input: AnalysisInput) async throws -> Analysis { throw ServiceError(.unavailable, "model down") }
        }
        let harness = try await Harness.make(kind)
        let session = try await harness.created()
        _ = try await harness.service.complete(session.id, completedAt: nil, by: Harness.tester())
        _ = try await harness.service.analyze(session.id, by: Harness.researcher)
        try await AnalysisWorker(service: harness.service, analyzer: Broken(), logger: .init(label: "t")).runOnce()
        let failed = try await harness.service.session(session.id, by: Harness.researcher)
        #expect(failed.status == .completed && failed.lastAnalysisError?.contains("model down") == true)
        _ = try await harness.service.analyze(session.id, by: Harness.researcher)  // retry allowed
    }

    @Test("lists are oldest first, filtered, paged with cursors, and a tester sees only their own", arguments: StoreKind.allCases)
    func listing(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        var ids: [String] = []
        for index in 0..<7 {
            harness.clock.advance(by: 1)
            ids.append(try await harness.created(index < 5 ? "t\(index)" : "t1", job: index < 5 ? "job1" : "job\(index - 3)").id)
        }
        var seen: [String] = []
        var cursor: SessionCursor?
        repeat {
            let page = try await harness.service.sessions(jobID: nil, testerID: nil, status: nil, pageSize: 3, after: cursor, by: Harness.researcher)
            seen += page.sessions.map(\.id)
            cursor = page.next
        } while cursor != nil
        #expect(seen == ids)
        let job2 = try await harness.service.sessions(jobID: "job2", testerID: nil, status: nil, pageSize: 0, after: nil, by: Harness.researcher)
        #expect(job2.sessions.map(\.id) == [ids[5]])
        let own = try await harness.service.sessions(jobID: nil, testerID: nil, status: nil, pageSize: 50, after: nil, by: Harness.tester("t1"))
        #expect(own.sessions.allSatisfy { $0.testerID == "t1" } && own.sessions.count == 3)
        await expectError(.invalidArgument, field: "limit") {
            _ = try await harness.service.sessions(jobID: nil, testerID: nil, status: nil, pageSize: 201, after: nil, by: Harness.researcher)
        }
    }

    @Test("watchers see each status change after it commits", arguments: StoreKind.allCases)
    func watchEvents(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let session = try await harness.created()
        let events = harness.service.events.subscribe(sessionID: session.id)
        _ = try await harness.service.pause(session.id, by: Harness.tester())
        _ = try await harness.service.resume(session.id, by: Harness.tester())
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next()?.session.status == .paused)
        #expect(await iterator.next()?.session.status == .active)
    }
}
