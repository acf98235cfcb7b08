import Foundation
import ServiceErrors
import SessionCore
import SessionStoreSQLite
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

    @Test("an update based on a stale version is ABORTED and changes nothing")
    func optimisticConcurrency() async throws {
        let store = try SQLiteSessionStore(path: try Self.path())
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

    @Test("uniqueness rules surface as ALREADY_EXISTS, and a failed change set leaves nothing behind")
    func uniqueness() async throws {
        let store = try SQLiteSessionStore(path: try Self.path())
        try await store.commit(ChangeSet([.insertSession(Self.session("s1"))]))
        let note = Note(id: "n1", sessionID: "s1", content: "x", authorID: "a", createdAt: .now, sequence: 1)
        await #expect {
            try await store.commit(ChangeSet([.insertNote(note), .insertSession(Self.session("s2"))]))  // same org/job/tester
        } throws: { ($0 as? ServiceError)?.code == .alreadyExists }
        #expect(try await store.notes(sessionID: "s1").isEmpty, "the note of the failed change set was rolled back")
        #expect(try await store.session(withID: "s2") == nil)
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
        let sizes = store.batchSizes.withLock { $0 }
        #expect(sizes.reduce(0, +) == 200)
        #expect(sizes.contains { $0 > 1 }, "no transaction carried more than one change set: \(sizes)")
    }
}
