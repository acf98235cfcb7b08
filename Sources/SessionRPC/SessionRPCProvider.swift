import Foundation
import ProtoWire
import RPCCore
import ServiceErrors
import SessionAPI
import SessionCore

/// `sessions.v1.SessionService` over the core: request messages become domain calls, domain
/// results become reply messages. Validation and rules live in the core; this layer only maps.
package struct SessionRPCProvider: SessionServiceProvider {
    let service: SessionService
    let store: any SessionStore
    let clock: any WallClock

    package init(service: SessionService, store: any SessionStore, clock: any WallClock) {
        self.service = service
        self.store = store
        self.clock = clock
    }

    package func createSession(_ request: CreateSessionRequest, context: CallContext) async throws -> SessionAPI.Session {
        let caller = try Self.principal(context)
        return try await self.idempotent(request, context, caller, replaying: .create(testerID: request.testerID)) {
            let session = try await self.service.create(
                jobID: request.jobID, testerID: request.testerID, variant: request.variant, by: caller)
            return self.message(session, for: caller)
        }
    }

    package func getSession(_ request: GetSessionRequest, context: CallContext) async throws -> SessionAPI.Session {
        let caller = try Self.principal(context)
        return self.message(try await self.service.session(request.sessionID, by: caller), for: caller)
    }

    /// GetSession answered from the store's memory, on the transport's thread; nil on a miss.
    package func cachedSession(_ request: GetSessionRequest, context: CallContext) throws -> SessionAPI.Session? {
        let caller = try Self.principal(context)
        return try self.service.cachedSession(request.sessionID, by: caller).map { self.message($0, for: caller) }
    }

    /// The generated routes, with GetSession's immediate path for cache hits.
    package var routesWithImmediatePaths: [RPCRoute] {
        self.routes.map { route in
            guard route.method == SessionServiceMethods.getSession else { return route }
            var route = route
            route.answerImmediately { (request: GetSessionRequest, context) in
                try self.cachedSession(request, context: context)
            }
            return route
        }
    }

    package func listSessions(_ request: ListSessionsRequest, context: CallContext) async throws -> ListSessionsResponse {
        let caller = try Self.principal(context)
        let page = try await self.service.sessions(
            jobID: request.jobID.isEmpty ? nil : request.jobID,
            testerID: request.testerID.isEmpty ? nil : request.testerID,
            status: try Self.status(request.status),
            pageSize: Int(request.pageSize),
            after: try PageToken.decode(request.pageToken, field: "cursor"),
            by: caller
        )
        var response = ListSessionsResponse()
        response.sessions = page.sessions.map { self.message($0, for: caller) }
        response.nextPageToken = page.next.map(PageToken.encode)
        response.pageSize = Int32(try Paging.limit(Int(request.pageSize), field: "limit"))
        return response
    }

    package func pauseSession(_ request: PauseSessionRequest, context: CallContext) async throws -> SessionAPI.Session {
        let caller = try Self.principal(context)
        return try await self.idempotent(request, context, caller, replaying: .session(request.sessionID, .pause)) {
            self.message(try await self.service.pause(request.sessionID, by: caller), for: caller)
        }
    }

    package func resumeSession(_ request: ResumeSessionRequest, context: CallContext) async throws -> SessionAPI.Session {
        let caller = try Self.principal(context)
        return try await self.idempotent(request, context, caller, replaying: .session(request.sessionID, .resume)) {
            self.message(try await self.service.resume(request.sessionID, by: caller), for: caller)
        }
    }

    package func completeSession(_ request: CompleteSessionRequest, context: CallContext) async throws
        -> CompleteSessionResponse
    {
        let caller = try Self.principal(context)
        return try await self.idempotent(request, context, caller, replaying: .session(request.sessionID, .complete)) {
            let session = try await self.service.complete(request.sessionID, completedAt: request.completedAt?.date, by: caller)
            var response = CompleteSessionResponse()
            response.sessionID = session.id
            response.status = Self.status(session.status)
            response.completedAt = session.completedAt.map(ProtoTimestamp.init)
            response.durationSeconds = session.durationSeconds(at: self.clock.now)
            return response
        }
    }

    package func analyzeSession(_ request: AnalyzeSessionRequest, context: CallContext) async throws
        -> AnalyzeSessionResponse
    {
        let caller = try Self.principal(context)
        return try await self.idempotent(request, context, caller, replaying: .session(request.sessionID, .analyze)) {
            let (session, estimate) = try await self.service.analyze(request.sessionID, by: caller)
            var response = AnalyzeSessionResponse()
            response.sessionID = session.id
            response.status = Self.status(session.status)
            response.estimatedCompletionSeconds = Int32(estimate)
            return response
        }
    }

    package func getAnalysis(_ request: GetAnalysisRequest, context: CallContext) async throws -> GetAnalysisResponse {
        let caller = try Self.principal(context)
        let analysis = try await self.service.analysis(request.sessionID, by: caller)
        var response = GetAnalysisResponse()
        response.sessionID = request.sessionID
        response.analysis = Self.message(analysis)
        return response
    }

    package func getNotes(_ request: GetNotesRequest, context: CallContext) async throws -> GetNotesResponse {
        let caller = try Self.principal(context)
        var response = GetNotesResponse()
        response.sessionID = request.sessionID
        response.notes = try await self.service.notes(request.sessionID, by: caller).map { note in
            var message = SessionAPI.Note()
            message.noteID = note.id
            message.content = note.content
            message.timestamp = ProtoTimestamp(note.createdAt)
            message.authorID = note.authorID
            message.updatedAt = ProtoTimestamp(note.updatedAt)
            return message
        }
        return response
    }

    package func updateNotes(_ request: UpdateNotesRequest, context: CallContext) async throws -> UpdateNotesResponse {
        let caller = try Self.principal(context)
        return try await self.idempotent(request, context, caller, replaying: .session(request.sessionID, .editNotes)) {
            let edits = request.notes.map { SessionService.NoteEdit(noteID: $0.noteID, content: $0.content) }
            let (updated, created) = try await self.service.updateNotes(request.sessionID, edits: edits, by: caller)
            var response = UpdateNotesResponse()
            response.sessionID = request.sessionID
            response.updatedCount = Int32(updated)
            response.createdCount = Int32(created)
            return response
        }
    }

    package func confirmSession(_ request: ConfirmSessionRequest, context: CallContext) async throws
        -> ConfirmSessionResponse
    {
        let caller = try Self.principal(context)
        return try await self.idempotent(request, context, caller, replaying: .session(request.sessionID, .confirm)) {
            let (session, payout) = try await self.service.confirm(
                request.sessionID, rating: request.rating, comment: request.comment, by: caller)
            var response = ConfirmSessionResponse()
            response.sessionID = session.id
            response.status = Self.status(session.status)
            response.payoutQueued = true
            response.confirmedAt = session.confirmedAt.map(ProtoTimestamp.init)
            response.payoutID = payout.id
            return response
        }
    }

    package func submitFeedback(_ request: SubmitFeedbackRequest, context: CallContext) async throws
        -> SubmitFeedbackResponse
    {
        let caller = try Self.principal(context)
        return try await self.idempotent(request, context, caller, replaying: .session(request.sessionID, .feedback)) {
            let feedback = try await self.service.submitFeedback(
                request.sessionID,
                clarity: request.clarity,
                difficulty: request.difficulty,
                technicalIssues: request.technicalIssues,
                comment: request.comment,
                by: caller
            )
            var response = SubmitFeedbackResponse()
            response.sessionID = feedback.sessionID
            response.feedbackID = feedback.id
            response.submittedAt = ProtoTimestamp(feedback.submittedAt)
            return response
        }
    }

    package func watchSession(
        _ request: WatchSessionRequest,
        responses: RPCResponseWriter<WatchSessionResponse>,
        context: CallContext
    ) async throws {
        let caller = try Self.principal(context)
        // Subscribe before reading, so no change between the snapshot and the stream is lost.
        let events = self.service.events.subscribe(sessionID: request.sessionID)
        let session = try await self.service.session(request.sessionID, by: caller)
        var snapshot = WatchSessionResponse()
        snapshot.session = self.message(session, for: caller)
        snapshot.event = SessionEvent.Kind.snapshot.rawValue
        try await responses.send(snapshot)
        var lastVersion = session.version
        for await event in events where event.session.version > lastVersion || event.kind == .analysisCompleted {
            lastVersion = max(lastVersion, event.session.version)
            var message = WatchSessionResponse()
            message.session = self.message(event.session, for: caller)
            message.event = event.kind.rawValue
            try await responses.send(message)
        }
    }

    package func listPayouts(_ request: ListPayoutsRequest, context: CallContext) async throws -> ListPayoutsResponse {
        let caller = try Self.principal(context)
        let page = try await self.service.payouts(
            testerID: request.testerID.isEmpty ? nil : request.testerID,
            pageSize: Int(request.pageSize),
            after: try PageToken.decode(request.pageToken, field: "pageToken"),
            by: caller
        )
        var response = ListPayoutsResponse()
        response.payouts = page.payouts.map { payout in
            var message = SessionAPI.Payout()
            message.payoutID = payout.id
            message.sessionID = payout.sessionID
            message.testerID = payout.testerID
            message.status = Self.status(payout.status)
            message.createdAt = ProtoTimestamp(payout.createdAt)
            message.deliveredAt = payout.deliveredAt.map(ProtoTimestamp.init)
            message.attempts = Int32(payout.attempts)
            return message
        }
        response.nextPageToken = page.next.map(PageToken.encode) ?? ""
        return response
    }
}
