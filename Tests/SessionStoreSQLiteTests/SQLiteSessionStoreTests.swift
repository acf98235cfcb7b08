import Foundation
import NIOConcurrencyHelpers
import ServiceErrors
import SessionCore
@testable import SessionStoreSQLite
import TestSupport
import Testing

@Suite("SQLite store")
struct SQLiteSessionStoreTests {
    static func path() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("sessions.sqlite").path
    }

    static func session(_ id: String, tester: String = "t", org: String = "o") -> TestSession {
        TestSession(id: id, org: org, jobID: "j", testerID: tester, variant: .a, createdAt: Date(timeIntervalSince1970: 1000))
    }

    @Test("acknowledged writes survive closing and reopening the file")
    func durability() async throws {
        let path = try Self.path()
        do {
            let store = try SQLiteSessionStore(path: path)
            try await store.commit(ChangeSet([.insertSession(Self.session("s1"))]))
        }
        let reopened = try SQLiteSessionStore(path: path)
        #expect(try await reopened.session(withID: "s1") == Self.session("s1"))
        #expect(try await reopened.integrityProblems().isEmpty)
    }

    @Test("concurrent commits are grouped into shared transactions, each change set still atomic")
    func groupCommit() async throws {
        let store = try SQLiteSessionStore(path: try Self.path())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    // Every tenth change set collides with another and must fail alone.
                    let tester = index % 10 == 0 ? "dup" : "t\(index)"
                    do {
                        try await store.commit(ChangeSet([.insertSession(Self.session("s\(index)", tester: tester))]))
                    } catch let error as ServiceError where error.code == .alreadyExists {
                        return
                    }
                }
            }
            try await group.waitForAll()
        }
        let stored = try await store.sessions(matching: SessionQuery(org: "o", limit: 1000))
        #expect(stored.count == 181)  // 180 unique testers + one "dup"
        let sizes = store.batchSizes.withLockedValue { $0 }
        #expect(sizes.reduce(0, +) == 200)
        #expect(sizes.contains { $0 > 1 }, "no transaction carried more than one change set: \(sizes)")
    }
}

/// The same behaviour from every backend.
@Suite("store contract")
struct SessionStoreContractTests {
    static func session(_ id: String, tester: String = "t", org: String = "o") -> TestSession {
        SQLiteSessionStoreTests.session(id, tester: tester, org: org)
    }

    @Test("an update based on a stale version is ABORTED and changes nothing", arguments: StoreKind.allCases)
    func optimisticConcurrency(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        var session = Self.session("s1")
        try await store.commit(ChangeSet([.insertSession(session)]))
        session.version = 2
        session.status = .paused
        try await store.commit(ChangeSet([.updateSession(session)]))
        var stale = session
        stale.status = .completed  // still version 2: based on version 1
        await #expect { try await store.commit(ChangeSet([.updateSession(stale)])) } throws: {
            ($0 as? ServiceError)?.code == .aborted
        }
        #expect(try await store.session(withID: "s1")?.status == .paused)
    }

    @Test("uniqueness rules surface as ALREADY_EXISTS, and a failed change set leaves nothing behind", arguments: StoreKind.allCases)
    func uniqueness(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        try await store.commit(ChangeSet([.insertSession(Self.session("s1"))]))
        let note = Note(id: "n1", sessionID: "s1", content: "x", authorID: "a", createdAt: .now, sequence: 1)
        await #expect {
            try await store.commit(ChangeSet([.insertNote(note), .insertSession(Self.session("s2"))]))  // same org/job/tester
        } throws: { ($0 as? ServiceError)?.code == .alreadyExists }
        #expect(try await store.notes(sessionID: "s1").isEmpty, "the note of the failed change set was rolled back")
        #expect(try await store.session(withID: "s2") == nil)
    }

    @Test("writes read back exactly, including times to the last bit and the analysis", arguments: StoreKind.allCases)
    func roundTrip(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        var session = Self.session("s1")
        session.createdAt = Date(timeIntervalSince1970: 1_795_953_418.204_614_437)
        session.completedAt = Date(timeIntervalSince1970: 1_795_953_500.5)
        session.lastAnalysisError = "é \u{1F608}"
        try await store.commit(ChangeSet([.insertSession(session)]))
        let stored = try #require(try await store.session(withID: "s1"))
        #expect(stored == session)
        let analysis = Analysis(sessionID: "s1", summary: "s", sentimentScore: -0.5, sentimentLabel: "negative",
                                frictionPoints: [.init(quote: "q", category: "bug", severity: "high", noteID: "n")],
                                themes: ["bug"], durationSeconds: 10, jobMedianSeconds: 20, suggestedRating: 4,
                                analyzedAt: Date(timeIntervalSince1970: 1_795_953_600), analyzer: "a")
        try await store.commit(ChangeSet([.enqueueAnalysis(AnalysisJob(sessionID: "s1", queuedAt: .now)), .saveAnalysis(analysis)]))
        #expect(try await store.analysis(sessionID: "s1") == analysis)
        #expect(try await store.analysisJobs(limit: 5).map(\.sessionID) == ["s1"], "the job stays until its holder finishes it")
        let record = IdempotencyRecord(org: "o", key: "k", fingerprint: "f", reply: [0, 1, 255], createdAt: .now)
        try await store.commit(ChangeSet([.insertIdempotencyRecord(record)]))
        #expect(try await store.idempotencyRecord(org: "o", key: "k")?.reply == [0, 1, 255])
        #expect(try await store.idempotencyRecord(org: "other", key: "k") == nil)
    }

    @Test("list queries filter, order by creation and page after a cursor", arguments: StoreKind.allCases)
    func listQueries(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        var changes = ChangeSet()
        for index in 0..<10 {
            var session = Self.session("s\(index)", tester: "t\(index)")
            session.createdAt = Date(timeIntervalSince1970: 1000 + Double(index / 2))  // pairs share a time
            session.status = index % 2 == 0 ? .active : .completed
            changes.append(.insertSession(session))
        }
        try await store.commit(changes)
        var query = SessionQuery(org: "o", limit: 4)
        let first = try await store.sessions(matching: query)
        #expect(first.map(\.id) == ["s0", "s1", "s2", "s3"])
        query.after = (first[3].createdAt, first[3].id)
        #expect(try await store.sessions(matching: query).map(\.id) == ["s4", "s5", "s6", "s7"])
        #expect(try await store.sessions(matching: SessionQuery(org: "o", status: .completed, limit: 10)).count == 5)
        #expect(try await store.sessions(matching: SessionQuery(org: "o", testerID: "t3", limit: 10)).map(\.id) == ["s3"])
        #expect(try await store.sessions(matching: SessionQuery(org: "other", limit: 10)).isEmpty)
        #expect(try await store.variantCounts(org: "o", jobID: "j") == [.a: 10])
    }
}

/// Migration 3 rebuilds `sessions`; a database written by the previous schema keeps every row.
@Suite("SQLite migration 3")
struct SQLiteSessionsRebuildTests {
    @Test("a version-2 database with sessions and notes opens rebuilt: rows, references and uniqueness kept")
    func openWhenAtVersionTwo() async throws {
        let path = try SQLiteSessionStoreTests.path()
        let old = [SQLiteSessionStoreTests.session("s1", tester: "t1"), SQLiteSessionStoreTests.session("s2", tester: "t2")]
        do {
            let connection = try SQLiteConnection(path: path)
            try connection.execute("PRAGMA journal_mode = WAL")
            try connection.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)")
            for (index, migration) in SQLiteSchema.migrations.prefix(2).enumerated() {
                try connection.execute(migration)
                try connection.query("INSERT INTO schema_migrations (version) VALUES (?)", [.integer(Int64(index + 1))])
            }
            for session in old {
                try connection.query(SessionRows.insert, SessionRows.insertValues(session))
            }
            try connection.query(
                "INSERT INTO notes (id, session_id, content, author_id, created_at, updated_at, sequence) VALUES ('n1', 's1', 'x', 'a', 1, 1, 1)")
        }
        let store = try SQLiteSessionStore(path: path)
        for session in old { #expect(try await store.session(withID: session.id) == session) }
        #expect(try await store.notes(sessionID: "s1").map(\.id) == ["n1"])
        #expect(try await store.sessions(matching: SessionQuery(org: "o", testerID: "t2", limit: 10)).map(\.id) == ["s2"])
        await #expect { try await store.commit(ChangeSet([.insertSession(SQLiteSessionStoreTests.session("s3", tester: "t1"))])) }
            throws: { ($0 as? ServiceError)?.code == .alreadyExists }
        await #expect { try await store.commit(ChangeSet([.insertNote(Note(id: "n2", sessionID: "nope", content: "x", authorID: "a", createdAt: .now, sequence: 1))])) }
            throws: { ($0 as? ServiceError)?.code == .notFound }
        #expect(try await store.integrityProblems().isEmpty)

        let connection = try SQLiteConnection(path: path)
        var schema: [String] = []
        try connection.query("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'sessions' ORDER BY name") { row in
            schema.append(row.text(0) + (row.text(1).contains("WITHOUT ROWID") ? " without rowid" : ""))
        }
        #expect(schema == ["sessions without rowid", "sessions_by_job", "sessions_by_job_tester", "sessions_by_org", "sessions_by_status", "sessions_by_tester"])
    }
}

/// The shapes of a session list, as the SQLite planner runs them.
@Suite("SQLite session lists")
struct SQLiteListPlanTests {
    @Test("every list shape walks one index in order from the cursor: none scans the org or sorts a tester's sessions")
    func listStatementWhenFiltered() throws {
        let path = try SQLiteSessionStoreTests.path()
        _ = try SQLiteSessionStore(path: path)
        let connection = try SQLiteConnection(path: path)
        let shapes: [(SessionQuery, String)] = [
            (SessionQuery(org: "o", limit: 50), "sessions_by_org"),
            (SessionQuery(org: "o", jobID: "j", limit: 50), "sessions_by_job"),
            (SessionQuery(org: "o", testerID: "t", limit: 50), "sessions_by_tester"),
            (SessionQuery(org: "o", status: .active, limit: 50), "sessions_by_status"),
            (SessionQuery(org: "o", jobID: "j", status: .active, limit: 50), "sessions_by_job"),
            (SessionQuery(org: "o", testerID: "t", status: .completed, limit: 50), "sessions_by_tester"),
            (SessionQuery(org: "o", jobID: "j", testerID: "t", limit: 50), "sessions_by_job_tester"),
            (SessionQuery(org: "o", jobID: "j", testerID: "t", status: .active, limit: 50), "sessions_by_job_tester"),
        ]
        for (query, index) in shapes {
            for after in [nil, (createdAt: Date(timeIntervalSince1970: 1000), id: "sess_x")] {
                var query = query
                query.after = after
                let (sql, values) = SQLiteSessionStore.listStatement(query)
                var plan: [String] = []
                try connection.query("EXPLAIN QUERY PLAN " + sql, values) { row in plan.append(row.text(3)) }
                // The unique index finds one session at most; sorting it is free.
                let steps = plan.filter { !(index == "sessions_by_job_tester" && $0 == "USE TEMP B-TREE FOR ORDER BY") }
                #expect(steps.count == 1 && steps[0].hasPrefix("SEARCH sessions USING INDEX \(index) "), "\(query): \(plan)")
            }
        }
    }
}

/// A batch whose failure ends the transaction (the disk is full) commits nothing and says so.
@Suite("SQLite batch failures")
struct SQLiteBatchFailureTests {
    @Test("a batch that fills the disk fails every change set, keeps none, and the next batch succeeds")
    func commitWhenDiskFull() async throws {
        let store = try SQLiteSessionStore(path: try SQLiteSessionStoreTests.path())
        try await store.commit(ChangeSet([.insertSession(SQLiteSessionStoreTests.session("s0"))]))
        // The file may not grow: every insert needing a new page fails with SQLITE_FULL.
        try await store.onWriter { connection in
            var pages: Int64 = 0
            try connection.query("PRAGMA page_count") { row in pages = row.integer(0) }
            try connection.query("PRAGMA max_page_count = \(pages)")
        }
        let outcomes = await withTaskGroup(of: ServiceError.Code?.self) { group in
            for index in 1...40 {
                group.addTask {
                    // Long rows, so the batch needs more pages than the file has.
                    var session = SQLiteSessionStoreTests.session("s\(index)", tester: "t\(index)")
                    session.lastAnalysisError = String(repeating: "x", count: 2_000)
                    do {
                        try await store.commit(ChangeSet([.insertSession(session)]))
                        return nil
                    } catch {
                        return (error as? ServiceError)?.code ?? .internal
                    }
                }
            }
            return await group.reduce(into: [ServiceError.Code?]()) { $0.append($1) }
        }
        let stored = try await store.sessions(matching: SessionQuery(org: "o", limit: 100)).map(\.id)
        let acknowledged = outcomes.filter { $0 == nil }.count
        #expect(stored.count == 1 + acknowledged, "acknowledged \(acknowledged), stored \(stored.count): a change set reported failed was kept, or the reverse")
        #expect(outcomes.contains { $0 == .unavailable }, "\(outcomes)")
        #expect(try await store.integrityProblems().isEmpty)
        try await store.onWriter { connection in try connection.query("PRAGMA max_page_count = 1073741823") }
        try await store.commit(ChangeSet([.insertSession(SQLiteSessionStoreTests.session("s99", tester: "t99"))]))
        #expect(try await store.session(withID: "s99") != nil)
    }
}

/// The writer's WAL frames reach the file gathered, not two writes per frame.
@Suite("SQLite WAL writes")
struct SQLiteWALWritesTests {
    @Test("a group commit writes its WAL frames with a few writes, and they read back after reopening")
    func commitWhenGathered() async throws {
        let path = try SQLiteSessionStoreTests.path()
        do {
            let store = try SQLiteSessionStore(path: path)
            let counted = NIOLockedValueBox<[Int64]>([])
            try await store.onWriter { connection in counted.withLockedValue { $0.append(connection.walWrites) } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        try await store.commit(ChangeSet([.insertSession(SQLiteSessionStoreTests.session("s\(index)", tester: "t\(index)"))]))
                    }
                }
                try await group.waitForAll()
            }
            let frames = ((try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0) / (4096 + 24)
            try await store.onWriter { connection in counted.withLockedValue { $0.append(connection.walWrites) } }
            let (before, after) = counted.withLockedValue { ($0[0], $0[1]) }
            #expect(before >= 0, "the writer's WAL is not opened through the gathering VFS")
            let writes = after - before
            // Ungathered, SQLite writes each frame with two calls: 2 × frames.
            #expect(frames > 20 && writes > 0 && writes * 4 < Int64(frames), "\(writes) writes for \(frames) WAL frames")
        }
        let reopened = try SQLiteSessionStore(path: path)
        #expect(try await reopened.sessions(matching: SessionQuery(org: "o", limit: 1000)).count == 300)
        #expect(try await reopened.integrityProblems().isEmpty)
    }
}
