import Foundation
import ServiceErrors
@testable import SessionCore
import Testing

extension Date {
    static let testEpoch = Date(timeIntervalSince1970: 1_773_655_200)  // 2026-03-16T10:00:00Z
}

@Suite("session lifecycle")
struct TestSessionLifecycleTests {
    static func session(_ status: SessionStatus) -> TestSession {
        var session = TestSession(id: "sess_1", org: "o", jobID: "j", testerID: "t", variant: .a, createdAt: .testEpoch)
        session.status = status
        return session
    }

    typealias Transition = @Sendable (inout TestSession, Date) throws(ServiceError) -> Void

    static let transitions: [(String, [SessionStatus], Transition)] = [
        ("pause", [.active], { session, now throws(ServiceError) in try session.pause(at: now) }),
        ("resume", [.paused], { session, now throws(ServiceError) in try session.resume(at: now) }),
        ("complete", [.active, .paused], { session, now throws(ServiceError) in try session.complete(at: now, completedAt: nil) }),
        ("analyze", [.completed, .analyzed], { session, now throws(ServiceError) in try session.startAnalysis(at: now) }),
        ("finish analysis of", [.analyzing], { session, now throws(ServiceError) in try session.finishAnalysis(at: now) }),
        ("fail analysis of", [.analyzing], { session, now throws(ServiceError) in try session.failAnalysis("x", at: now) }),
        ("confirm", [.analyzed], { session, now throws(ServiceError) in try session.confirm(at: now) }),
    ]

    @Test("every transition is accepted exactly from its documented statuses", arguments: 0..<7)
    func transitionTable(index: Int) {
        let (name, accepted, transition) = Self.transitions[index]
        for status in SessionStatus.allCases {
            var session = Self.session(status)
            do {
                try transition(&session, Date.testEpoch.addingTimeInterval(60))
                #expect(accepted.contains(status), "\(name) was accepted from \(status)")
                #expect(session.version == 2, "a change bumps the version")
            } catch {
                #expect(!accepted.contains(status), "\(name) was rejected from \(status): \(error)")
                #expect(error.code == .failedPrecondition)
                #expect(error.message.contains("it is \(status.rawValue)"), "\(error.message)")
                for ok in accepted { #expect(error.message.contains(ok.rawValue)) }
                #expect(session == Self.session(status), "a rejected transition changes nothing")
            }
        }
    }

    @Test("duration counts active time only, paused intervals excluded")
    func durationExcludesPauses() throws {
        var session = Self.session(.active)
        #expect(session.durationSeconds(at: .testEpoch.addingTimeInterval(100)) == 100)
        try session.pause(at: .testEpoch.addingTimeInterval(100))
        #expect(session.durationSeconds(at: .testEpoch.addingTimeInterval(500)) == 100)
        try session.resume(at: .testEpoch.addingTimeInterval(500))
        #expect(session.durationSeconds(at: .testEpoch.addingTimeInterval(560)) == 160)
        try session.complete(at: .testEpoch.addingTimeInterval(600), completedAt: nil)
        #expect(session.durationSeconds(at: .testEpoch.addingTimeInterval(9_999)) == 200)
    }

    @Test("completing while paused adds no time after the pause")
    func completeWhenPaused() throws {
        var session = Self.session(.active)
        try session.pause(at: .testEpoch.addingTimeInterval(30))
        try session.complete(at: .testEpoch.addingTimeInterval(90), completedAt: nil)
        #expect(session.durationSeconds(at: .testEpoch.addingTimeInterval(1000)) == 30)
        #expect(session.completedAt == .testEpoch.addingTimeInterval(90))
    }

    @Test("completedAt must not precede the start nor lie more than 5 minutes ahead", arguments: [
        (-1.0, false), (0.0, true), (120.0, true), (60.0 + 300, true), (60.0 + 301, false),
    ])
    func completedAtBounds(offset: Double, accepted: Bool) {
        var session = Self.session(.active)
        let now = Date.testEpoch.addingTimeInterval(60)
        do {
            try session.complete(at: now, completedAt: .testEpoch.addingTimeInterval(offset))
            #expect(accepted)
        } catch {
            #expect(!accepted)
            #expect(error.code == .invalidArgument)
            #expect(error.fieldViolations.first?.field == "completedAt")
        }
    }

    @Test("a failed analysis returns to completed with the error, and may be retried")
    func failAnalysisWhenAnalyzing() throws {
        var session = Self.session(.completed)
        try session.startAnalysis(at: .testEpoch)
        try session.failAnalysis("model unavailable", at: .testEpoch)
        #expect(session.status == .completed && session.lastAnalysisError == "model unavailable")
        try session.startAnalysis(at: .testEpoch)
        try session.finishAnalysis(at: .testEpoch)
        #expect(session.status == .analyzed && session.lastAnalysisError == nil)
    }

    @Test("allowed actions follow the status")
    func allowedActions() {
        #expect(Self.session(.active).allowedActions.contains("pause"))
        #expect(!Self.session(.active).allowedActions.contains("confirm"))
        #expect(Self.session(.analyzed).allowedActions.contains("confirm"))
        #expect(Self.session(.confirmed).allowedActions == ["feedback", "notes"])
    }
}
