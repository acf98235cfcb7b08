import ServiceErrors
@testable import SessionCore
import TestSupport
import Testing

/// A request that breaks several rules gets one INVALID_ARGUMENT naming every offending field.
@Suite("every offending field is named")
struct FieldChecksTests {
    static func violations(_ body: () async throws -> Void) async -> [String] {
        do {
            try await body()
            Issue.record("no error")
            return []
        } catch let error as ServiceError {
            #expect(error.code == .invalidArgument)
            #expect(error.message == error.fieldViolations.map { "\($0.field): \($0.description)" }.joined(separator: "; "))
            return error.fieldViolations.map(\.field)
        } catch {
            Issue.record("unexpected \(error)")
            return []
        }
    }

    @Test("create with nothing valid names jobId, testerId and variant", arguments: [StoreKind.sqlite])
    func createWhenEverythingInvalid(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let fields = await Self.violations {
            _ = try await harness.service.create(jobID: "", testerID: "bad id!", variant: "C", by: Harness.service)
        }
        #expect(fields == ["jobId", "testerId", "variant"])
    }

    @Test("feedback with nothing valid names clarity, difficulty, technicalIssues and comment", arguments: [StoreKind.sqlite])
    func feedbackWhenEverythingInvalid(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let session = try await harness.created()
        _ = try await harness.service.complete(session.id, completedAt: nil, by: Harness.researcher)
        let fields = await Self.violations {
            _ = try await harness.service.submitFeedback(
                session.id, clarity: nil, difficulty: 9, technicalIssues: nil,
                comment: String(repeating: "x", count: 2001), by: Harness.tester()
            )
        }
        #expect(fields == ["clarity", "difficulty", "technicalIssues", "comment"])
    }

    @Test("note edits name each empty or oversized note", arguments: [StoreKind.sqlite])
    func notesWhenSeveralInvalid(kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let session = try await harness.created()
        let fields = await Self.violations {
            _ = try await harness.service.updateNotes(session.id, edits: [
                .init(noteID: "", content: ""), .init(noteID: "", content: "fine"),
                .init(noteID: "", content: String(repeating: "y", count: 10_001)),
            ], by: Harness.researcher)
        }
        #expect(fields == ["notes[0].content", "notes[2].content"])
    }
}
