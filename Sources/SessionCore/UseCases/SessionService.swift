import Foundation
import ServiceErrors

/// The Sessions use cases. Transport-free: requests arrive as plain values with the caller's
/// `Principal`, results leave as domain types or `ServiceError`s.
package final class SessionService: Sendable {
    let store: any SessionStore
    let clock: any WallClock
    let ids: IDGenerator
    package let events: SessionEvents
    let analysisQueue: AnalysisQueue

    package init(store: any SessionStore, clock: any WallClock, events: SessionEvents = SessionEvents(), analysisQueue: AnalysisQueue = AnalysisQueue()) {
        self.store = store
        self.clock = clock
        self.ids = IDGenerator(clock: clock)
        self.events = events
        self.analysisQueue = analysisQueue
    }

    // MARK: Reads

    package func session(_ id: String, by caller: Principal) async throws -> TestSession {
        try caller.authorize(.read, on: try await self.store.session(withID: id), id: id)
    }

    /// The session when the store holds it in memory, with the same visibility rules; nil when
    /// it must be read with `session(_:by:)`.
    package func cachedSession(_ id: String, by caller: Principal) throws(ServiceError) -> TestSession? {
        guard let session = self.store.cachedSession(withID: id) else { return nil }
        return try caller.authorize(.read, on: session, id: id)
    }

    /// One page of the caller's visible sessions, oldest first, and the cursor of the next page.
    package func sessions(
        jobID: String?,
        testerID: String?,
        status: SessionStatus?,
        pageSize: Int,
        after cursor: SessionCursor?,
        by caller: Principal
    ) async throws -> (sessions: [TestSession], next: SessionCursor?) {
        let limit = try Paging.limit(pageSize, field: "limit")
        var query = SessionQuery(org: caller.org, jobID: jobID, testerID: testerID, status: status, limit: limit + 1)
        if caller.role == .tester {
            // A tester lists only their own sessions, whatever filter they ask for.
            if let testerID, testerID != caller.subject { return ([], nil) }
            query.testerID = caller.subject
        }
        query.after = cursor.map { ($0.createdAt, $0.id) }
        return Paging.page(try await self.store.sessions(matching: query), limit: limit) {
            SessionCursor(createdAt: $0.createdAt, id: $0.id)
        }
    }

    package func notes(_ sessionID: String, by caller: Principal) async throws -> [Note] {
        _ = try caller.authorize(.readNotes, on: try await self.store.session(withID: sessionID), id: sessionID)
        return try await self.store.notes(sessionID: sessionID)
    }

    package func analysis(_ sessionID: String, by caller: Principal) async throws -> Analysis {
        let session = try caller.authorize(.readAnalysis, on: try await self.store.session(withID: sessionID), id: sessionID)
        guard let analysis = try await self.store.analysis(sessionID: sessionID) else {
            throw ServiceError(
                .failedPrecondition,
                "session \(sessionID) has no analysis yet: it is \(session.status.rawValue)"
            )
        }
        return analysis
    }

    package func payouts(testerID: String?, pageSize: Int, after cursor: SessionCursor?, by caller: Principal)
        async throws -> (payouts: [Payout], next: SessionCursor?)
    {
        switch caller.role {
        case .service, .admin: break
        case .tester, .researcher:
            throw ServiceError(.permissionDenied, "a \(caller.role.rawValue) may not list payouts")
        }
        let limit = try Paging.limit(pageSize, field: "pageSize")
        var query = PayoutQuery(org: caller.org, testerID: testerID, limit: limit + 1)
        query.after = cursor.map { ($0.createdAt, $0.id) }
        return Paging.page(try await self.store.payouts(matching: query), limit: limit) {
            SessionCursor(createdAt: $0.createdAt, id: $0.id)
        }
    }

    // MARK: Writes

    package func create(jobID: String, testerID: String, variant: String, by caller: Principal) async throws -> TestSession {
        var checks = FieldChecks()
        checks.check { () throws(ServiceError) in try Validation.identifier(jobID, field: "jobId") }
        checks.check { () throws(ServiceError) in try Validation.identifier(testerID, field: "testerId") }
        let chosen: Variant? = checks.check { () throws(ServiceError) -> Variant? in
            guard !variant.isEmpty else { return nil }
            guard let value = Variant(rawValue: variant) else { throw ServiceError.invalidField("variant", "must be A or B") }
            return value
        } ?? nil
        try checks.finish()
        try Self.authorizeCreate(testerID: testerID, by: caller)
        // No look-up first: the store's unique (org, job, tester) constraint decides, inside the
        // write, so a create costs one trip to the writer and none to a reader.
        let assigned: Variant
        if let chosen {
            assigned = chosen
        } else {
            assigned = try await self.balancedVariant(org: caller.org, jobID: jobID, testerID: testerID)
        }
        let session = TestSession(
            id: self.ids.make("sess"),
            org: caller.org,
            jobID: jobID,
            testerID: testerID,
            variant: assigned,
            createdAt: self.clock.now
        )
        do {
            try await self.commit(ChangeSet([.insertSession(session)]))
        } catch let error as ServiceError where error.code == .alreadyExists {
            // The session exists (created earlier or by a concurrent call): name it.
            if let existing = try await self.store.session(org: caller.org, jobID: jobID, testerID: testerID) {
                throw Self.duplicate(existing)
            }
            throw error
        }
        return session
    }

    /// Whether `caller` may create a session for `testerID` (a tester only for themselves).
    package func authorizeCreate(testerID: String, by caller: Principal) throws(ServiceError) {
        try Self.authorizeCreate(testerID: testerID, by: caller)
    }

    private static func authorizeCreate(testerID: String, by caller: Principal) throws(ServiceError) {
        if caller.role == .tester && testerID != caller.subject {
            throw ServiceError(.permissionDenied, "a tester may create sessions only for themselves")
        }
    }

    /// Whether `caller` may take `action` on the session, as the use case would check it.
    package func authorize(_ action: SessionAction, sessionID id: String, by caller: Principal) async throws {
        _ = try caller.authorize(action, on: try await self.store.session(withID: id), id: id)
    }

    private static func duplicate(_ existing: TestSession) -> ServiceError {
        ServiceError(
            .alreadyExists,
            "a session for job \(existing.jobID) and tester \(existing.testerID) already exists: \(existing.id)"
        )
    }

    /// The variant with fewer sessions in the job; ties go by a stable hash of the tester.
    private func balancedVariant(org: String, jobID: String, testerID: String) async throws -> Variant {
        let counts = try await self.store.variantCounts(org: org, jobID: jobID)
        let a = counts[.a] ?? 0
        let b = counts[.b] ?? 0
        if a != b { return a < b ? .a : .b }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for byte in testerID.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        return hash & 1 == 0 ? .a : .b
    }

    package func pause(_ id: String, by caller: Principal) async throws -> TestSession {
        try await self.transition(id, .pause, by: caller) { session, now throws(ServiceError) in try session.pause(at: now) }
    }

    package func resume(_ id: String, by caller: Principal) async throws -> TestSession {
        try await self.transition(id, .resume, by: caller) { session, now throws(ServiceError) in try session.resume(at: now) }
    }

    package func complete(_ id: String, completedAt: Date?, by caller: Principal) async throws -> TestSession {
        try await self.transition(id, .complete, by: caller) { session, now throws(ServiceError) in
            try session.complete(at: now, completedAt: completedAt)
        }
    }

    /// Queues analysis; returns the session and an estimate of seconds until it is analyzed.
    package func analyze(_ id: String, by caller: Principal) async throws -> (TestSession, Int) {
        let session = try await self.transition(id, .analyze, by: caller, extra: { session, now in
            [.enqueueAnalysis(AnalysisJob(sessionID: session.id, queuedAt: now))]
        }) { session, now throws(ServiceError) in try session.startAnalysis(at: now) }
        self.analysisQueue.signal()
        return (session, self.analysisQueue.estimatedSeconds())
    }

    package func confirm(_ id: String, rating: Int32?, comment: String, by caller: Principal) async throws
        -> (TestSession, Payout)
    {
        let session = try caller.authorize(.confirm, on: try await self.store.session(withID: id), id: id)
        var checks = FieldChecks()
        let score = checks.check { () throws(ServiceError) in try Validation.score(rating, field: "rating") } ?? 0
        checks.check { () throws(ServiceError) in try Validation.text(comment, field: "comment", maximum: 2000) }
        try checks.finish()
        var payout: Payout?
        let confirmed = try await self.transition(id, .confirm, by: caller, first: session, extra: { session, now in
            let queued = Payout(id: self.ids.make("pay"), org: session.org, sessionID: session.id,
                                testerID: session.testerID, createdAt: now)
            payout = queued
            return [
                .insertConfirmation(Confirmation(sessionID: session.id, rating: score, comment: comment,
                                                 confirmedBy: caller.subject, confirmedAt: now)),
                .insertPayout(queued),
            ]
        }) { session, now throws(ServiceError) in try session.confirm(at: now) }
        // `extra` runs for the attempt that committed, so the payout is always set here.
        guard let payout else { throw ServiceError(.internal, "confirmation of \(id) committed without a payout") }
        return (confirmed, payout)
    }

    package func submitFeedback(
        _ id: String,
        clarity: Int32?,
        difficulty: Int32?,
        technicalIssues: Bool?,
        comment: String,
        by caller: Principal
    ) async throws -> Feedback {
        let session = try caller.authorize(.feedback, on: try await self.store.session(withID: id), id: id)
        var checks = FieldChecks()
        let clarity = checks.check { () throws(ServiceError) in try Validation.score(clarity, field: "clarity") } ?? 0
        let difficulty = checks.check { () throws(ServiceError) in try Validation.score(difficulty, field: "difficulty") } ?? 0
        let technicalIssues = checks.check { () throws(ServiceError) -> Bool in
            guard let technicalIssues else { throw ServiceError.invalidField("technicalIssues", "is required") }
            return technicalIssues
        } ?? false
        checks.check { () throws(ServiceError) in try Validation.text(comment, field: "comment", maximum: 2000) }
        try checks.finish()  // every value above is set from here on (the fallbacks are never used)
        try session.checkAcceptsFeedback()
        if try await self.store.feedback(sessionID: id) != nil {
            throw ServiceError(.alreadyExists, "feedback for session \(id) was already submitted")
        }
        let feedback = Feedback(
            id: self.ids.make("fb"),
            sessionID: id,
            clarity: clarity,
            difficulty: difficulty,
            technicalIssues: technicalIssues,
            comment: comment,
            submittedAt: self.clock.now
        )
        do {
            try await self.commit(ChangeSet([.insertFeedback(feedback)]))
        } catch let error as ServiceError where error.code == .alreadyExists {
            throw ServiceError(.alreadyExists, "feedback for session \(id) was already submitted")
        }
        return feedback
    }

    /// One requested note change: with an ID it replaces that note, without one it creates one.
    package struct NoteEdit: Sendable {
        package var noteID: String
        package var content: String

        package init(noteID: String, content: String) {
            self.noteID = noteID
            self.content = content
        }
    }

    /// Applies a batch of note edits atomically; returns (updated, created) counts.
    package func updateNotes(_ id: String, edits: [NoteEdit], by caller: Principal) async throws -> (Int, Int) {
        _ = try caller.authorize(.editNotes, on: try await self.store.session(withID: id), id: id)
        guard !edits.isEmpty else { throw ServiceError.invalidField("notes", "must contain at least one note") }
        guard edits.count <= 100 else { throw ServiceError.invalidField("notes", "must contain at most 100 notes") }
        var checks = FieldChecks()
        for (index, edit) in edits.enumerated() {
            checks.check { () throws(ServiceError) in
                try Validation.text(edit.content, field: "notes[\(index)].content", maximum: 10_000, required: true)
            }
        }
        try checks.finish()
        let existing = try await self.store.notes(sessionID: id)
        let byID = Dictionary(existing.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let now = self.clock.now
        var sequence = (existing.map(\.sequence).max() ?? 0)
        var changes = ChangeSet()
        var updated = 0
        var created = 0
        for (index, edit) in edits.enumerated() {
            if edit.noteID.isEmpty {
                sequence += 1
                changes.append(.insertNote(Note(id: self.ids.make("note"), sessionID: id, content: edit.content,
                                                authorID: caller.subject, createdAt: now, sequence: sequence)))
                created += 1
            } else {
                guard var note = byID[edit.noteID] else {
                    throw ServiceError(
                        .notFound,
                        "note \(edit.noteID) not found in session \(id)",
                        fieldViolations: [FieldViolation(field: "notes[\(index)].noteId", description: "no such note")]
                    )
                }
                note.content = edit.content
                note.updatedAt = now
                changes.append(.updateNote(note))
                updated += 1
            }
        }
        try await self.commit(changes)
        return (updated, created)
    }

    // MARK: Transitions

    /// Read, apply `change`, commit with the version check; on a lost race, read again and retry.
    private func transition(
        _ id: String,
        _ action: SessionAction,
        by caller: Principal,
        first: TestSession? = nil,
        extra: (TestSession, Date) -> [ChangeSet.Change] = { _, _ in [] },
        _ change: (inout TestSession, Date) throws(ServiceError) -> Void
    ) async throws -> TestSession {
        var attempt = 0
        var current = first
        while true {
            let loaded: TestSession?
            if let current { loaded = current } else { loaded = try await self.store.session(withID: id) }
            var session = try caller.authorize(action, on: loaded, id: id)
            let before = session.status
            let now = self.clock.now
            try change(&session, now)
            do {
                try await self.commit(ChangeSet([.updateSession(session)] + extra(session, now)))
                if session.status != before {
                    self.events.publish(SessionEvent(kind: .statusChanged, session: session))
                }
                return session
            } catch let error as ServiceError where error.code == .aborted && attempt < 3 {
                attempt += 1
                current = nil
            }
        }
    }
}

/// Page sizes and pages: queries ask for one item more than the page, and that extra item only
/// says a next page exists.
package enum Paging {
    /// 0 means the default of 50; at most 200.
    package static func limit(_ pageSize: Int, field: String) throws(ServiceError) -> Int {
        guard (0...200).contains(pageSize) else { throw ServiceError.invalidField(field, "must be between 1 and 200") }
        return pageSize == 0 ? 50 : pageSize
    }

    static func page<Item>(_ items: [Item], limit: Int, cursor: (Item) -> SessionCursor) -> ([Item], SessionCursor?) {
        guard items.count > limit else { return (items, nil) }
        let page = Array(items.prefix(limit))
        return (page, page.last.map(cursor))
    }
}

/// A position in a list: the last item of the previous page.
package struct SessionCursor: Sendable, Equatable {
    package var createdAt: Date
    package var id: String

    package init(createdAt: Date, id: String) {
        self.createdAt = createdAt
        self.id = id
    }
}
