import Foundation
import ProtoWire
import RPCCore
import ServiceErrors
import SessionAPI
import SessionCore

extension SessionRPCProvider {
    /// The caller the authentication interceptor established.
    static func principal(_ context: CallContext) throws(ServiceError) -> Principal {
        guard let caller = context.caller, let role = Principal.Role(rawValue: caller.role) else {
            throw ServiceError(.unauthenticated, "the call is not authenticated")
        }
        return Principal(subject: caller.subject, role: role, org: caller.org)
    }

    /// A payout's status as the API names it: a payout being delivered (claimed) is still queued.
    static func status(_ status: SessionCore.Payout.Status) -> SessionAPI.PayoutStatus {
        switch status {
        case .queued, .claimed: .queued
        case .delivered: .delivered
        case .failed: .failed
        }
    }

    func message(_ session: TestSession, for caller: Principal) -> SessionAPI.Session {
        var message = SessionAPI.Session()
        message.sessionID = session.id
        message.jobID = session.jobID
        message.testerID = session.testerID
        message.variant = session.variant.rawValue
        message.status = Self.status(session.status)
        message.createdAt = ProtoTimestamp(session.createdAt)
        message.startedAt = ProtoTimestamp(session.startedAt)
        message.completedAt = session.completedAt.map(ProtoTimestamp.init)
        message.durationSeconds = session.durationSeconds(at: self.clock.now)
        message.allowedActions = session.allowedActions(for: caller)
        message.updatedAt = ProtoTimestamp(session.updatedAt)
        message.pausedAt = session.pausedAt.map(ProtoTimestamp.init)
        message.analyzedAt = session.analyzedAt.map(ProtoTimestamp.init)
        message.confirmedAt = session.confirmedAt.map(ProtoTimestamp.init)
        message.lastAnalysisError = session.lastAnalysisError
        return message
    }

    static func message(_ analysis: SessionCore.Analysis) -> SessionAPI.Analysis {
        var message = SessionAPI.Analysis()
        message.summary = analysis.summary
        var sentiment = SessionAPI.Analysis.Sentiment()
        sentiment.score = analysis.sentimentScore
        sentiment.label = analysis.sentimentLabel
        message.sentiment = sentiment
        message.frictionPoints = analysis.frictionPoints.map { point in
            var friction = SessionAPI.Analysis.FrictionPoint()
            friction.quote = point.quote
            friction.category = point.category
            friction.severity = point.severity
            friction.noteID = point.noteID
            return friction
        }
        message.themes = analysis.themes
        var duration = SessionAPI.Analysis.DurationComparison()
        duration.durationSeconds = analysis.durationSeconds
        duration.jobMedianSeconds = analysis.jobMedianSeconds
        duration.ratio = analysis.jobMedianSeconds > 0 ? Double(analysis.durationSeconds) / Double(analysis.jobMedianSeconds) : 0
        message.duration = duration
        message.suggestedRating = Int32(analysis.suggestedRating)
        message.analyzedAt = ProtoTimestamp(analysis.analyzedAt)
        message.analyzer = analysis.analyzer
        return message
    }

    static func status(_ status: SessionCore.SessionStatus) -> SessionAPI.SessionStatus {
        switch status {
        case .active: .active
        case .paused: .paused
        case .completed: .completed
        case .analyzing: .analyzing
        case .analyzed: .analyzed
        case .confirmed: .confirmed
        }
    }

    /// A list filter: unspecified means any status.
    static func status(_ status: SessionAPI.SessionStatus) throws(ServiceError) -> SessionCore.SessionStatus? {
        switch status {
        case .unspecified: nil
        case .active: .active
        case .paused: .paused
        case .completed: .completed
        case .analyzing: .analyzing
        case .analyzed: .analyzed
        case .confirmed: .confirmed
        case .unrecognized(let value): throw ServiceError.invalidField("status", "unknown status \(value)")
        }
    }

    /// Runs a mutating call at most once per idempotency key (metadata `idempotency-key`): a retry
    /// with the same key and request gets the first reply; the same key with another request is
    /// INVALID_ARGUMENT naming the key. Keys belong to the caller (org and subject): another
    /// caller's key is another key, so nobody is replayed a reply made for someone else.
    ///
    /// The key is claimed in the same transaction as the call's mutation (`IdempotencyClaim`), so
    /// the two are committed both or neither: a concurrent call with the key, here or on another
    /// instance, or a retry after a crash, finds the claim and answers from it instead of running
    /// again. The reply is stored right after the mutation; a retry that finds the claim without
    /// it yet waits for it briefly. Without a key the call simply runs.
    func idempotent<Request: ProtoMessage, Reply: ProtoMessage>(
        _ request: Request,
        _ context: CallContext,
        _ caller: Principal,
        replaying access: ReplayAccess,
        _ body: @Sendable () async throws -> Reply
    ) async throws -> Reply {
        guard let key = context.metadata["idempotency-key"], !key.isEmpty else { return try await body() }
        guard key.count <= 255 else { throw ServiceError.invalidField("Idempotency-Key", "must be at most 255 characters") }
        // Length-prefixed, so no subject and key can spell another pair's scope.
        let scoped = "\(caller.subject.utf8.count):\(caller.subject)\(key)"
        let fingerprint = "\(context.method.path) \(Self.digest(request.serializedBytes()))"
        let store = self.store
        let now = self.clock.now
        let service = self.service
        // A stored reply goes only to a caller who may still do what the call did.
        let authorize: @Sendable () async throws -> Void = {
            switch access {
            case .create(let testerID): try service.authorizeCreate(testerID: testerID, by: caller)
            case .session(let id, let action): try await service.authorize(action, sessionID: id, by: caller)
            }
        }
        let bytes: [UInt8] = try await {
            if let record = try await store.idempotencyRecord(org: caller.org, key: scoped) {
                try await authorize()
                return try await Self.answer(from: record, fingerprint: fingerprint, key: key, store: store)
            }
            let claim = IdempotencyClaim(
                IdempotencyRecord(org: caller.org, key: scoped, fingerprint: fingerprint, reply: [], createdAt: now)
            )
            let reply: [UInt8]
            do {
                reply = try await IdempotencyClaim.$current.withValue(claim) { try await body() }.serializedBytes()
            } catch {
                // Another call's claim may have won the key (its commit first): answer as it did.
                if !claim.isCommitted, let record = try? await store.idempotencyRecord(org: caller.org, key: scoped) {
                    try await authorize()
                    return try await Self.answer(from: record, fingerprint: fingerprint, key: key, store: store)
                }
                throw error
            }
            // The mutation and the claim are committed; the reply joins them now. If that fails,
            // the key still guards the mutation (a retry gets ABORTED, never a second run).
            let completion: ChangeSet.Change = claim.isCommitted
                ? .completeIdempotencyRecord(org: caller.org, key: scoped, reply: reply)
                : .insertIdempotencyRecord(
                    IdempotencyRecord(org: caller.org, key: scoped, fingerprint: fingerprint, reply: reply, createdAt: now)
                )
            try? await store.commit(ChangeSet([completion]))
            return reply
        }()
        return try Reply(decodingReply: bytes)
    }

    /// What a replayed call did, so the caller's right to it is checked again before its reply is
    /// replayed (a role or an organization may have changed since).
    enum ReplayAccess: Sendable {
        case create(testerID: String)
        case session(String, SessionAction)
    }

    /// The stored answer for a key: its reply when the request matches and the reply is stored
    /// (waiting up to 3 s for a claim whose reply is on its way).
    private static func answer(
        from record: IdempotencyRecord, fingerprint: String, key: String, store: any SessionStore
    ) async throws -> [UInt8] {
        guard record.fingerprint == fingerprint else {
            throw ServiceError.invalidField("Idempotency-Key", "'\(key)' was already used with a different request")
        }
        var record = record
        let deadline = ContinuousClock.now + .seconds(3)
        while !record.isComplete {
            guard ContinuousClock.now < deadline else {
                throw ServiceError(
                    .aborted, "the request with Idempotency-Key '\(key)' was carried out; its reply is not stored yet, retry"
                )
            }
            try await Task.sleep(for: .milliseconds(50))
            record = try await store.idempotencyRecord(org: record.org, key: record.key) ?? record
        }
        return record.reply
    }

    /// FNV-1a over the request bytes, with their length: tells requests apart under one key.
    private static func digest(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return String(hash, radix: 16) + "-" + String(bytes.count)
    }
}

extension TestSession {
    /// `allowed_actions` narrowed to what the caller's role may do.
    func allowedActions(for caller: Principal) -> [String] {
        let status = SessionStatus.allCases.firstIndex(of: self.status)!
        let role = Principal.Role.allCases.firstIndex(of: caller.role)!
        return Self.allowedActionsByStatusAndRole[status][role]
    }

    /// Every status × role answer, worked out once: each reply shares its list.
    private static let allowedActionsByStatusAndRole: [[[String]]] = SessionStatus.allCases.map { status in
        Principal.Role.allCases.map { role in
            Self.allowedActions(in: status).filter { action in
                switch action {
                case "pause", "resume", "complete": true
                case "feedback": role == .tester
                case "analyze", "notes": role != .tester
                case "confirm": role == .researcher || role == .admin
                default: true
                }
            }
        }
    }
}

/// Opaque list cursors: base64url of "<createdAt as the exact bits of its Double>:<id>". The
/// exact bits matter: a rounded time could compare past (or short of) the stored one and repeat
/// or skip a row at a page boundary.
enum PageToken {
    static func encode(_ cursor: SessionCursor) -> String {
        let bits = String(cursor.createdAt.timeIntervalSince1970.bitPattern, radix: 16)
        let raw = "\(bits):\(cursor.id)"
        return Data(raw.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ token: String, field: String) throws(ServiceError) -> SessionCursor? {
        guard !token.isEmpty else { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let raw = String(data: data, encoding: .utf8) else {
            throw ServiceError.invalidField(field, "is not a cursor returned by this API")
        }
        let parts = raw.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let bits = UInt64(parts[0], radix: 16), !parts[1].isEmpty else {
            throw ServiceError.invalidField(field, "is not a cursor returned by this API")
        }
        let seconds = Double(bitPattern: bits)
        guard seconds.isFinite else { throw ServiceError.invalidField(field, "is not a cursor returned by this API") }
        return SessionCursor(createdAt: Date(timeIntervalSince1970: seconds), id: String(parts[1]))
    }
}
