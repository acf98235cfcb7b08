import Foundation
import ServiceErrors
import SessionCore
import Testing

@Suite("job attempts")
struct JobAttemptTests {
    static let policy = RetryPolicy(maxAttempts: 3, leaseDuration: 30, firstDelay: 1, maxDelay: 10)
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func running(attempt: Int) throws -> JobAttempt {
        var attempt = JobAttempt(lease: JobLease(owner: "a", attempt: attempt), policy: Self.policy)
        #expect(try attempt.start(lastError: nil) == .run)
        return attempt
    }

    @Test("a claim within the attempts runs")
    func startWhenClaimed() throws {
        var attempt = JobAttempt(lease: JobLease(owner: "a", attempt: 3), policy: Self.policy)
        #expect(try attempt.start(lastError: nil) == .run)
        #expect(attempt.state == .running)
    }

    @Test("a claim past the last attempt (its holder died) records the job failed, naming the last error")
    func startWhenAttemptsExhausted() throws {
        var attempt = JobAttempt(lease: JobLease(owner: "a", attempt: 4), policy: Self.policy)
        let action = try attempt.start(lastError: "sink down")
        #expect(action == .record(.failed(error: "gave up after 3 attempts; last: sink down")))
        #expect(attempt.state == .ended(.failed(error: "gave up after 3 attempts; last: sink down")))
    }

    @Test("starting twice is a bug")
    func startWhenRunning() throws {
        var attempt = try Self.running(attempt: 1)
        #expect(throws: ServiceError.self) { try attempt.start(lastError: nil) }
        #expect(attempt.state == .running)
    }

    @Test("success ends the job done")
    func succeededWhenRunning() throws {
        var attempt = try Self.running(attempt: 1)
        #expect(try attempt.succeeded(at: Self.now) == .done(at: Self.now))
        #expect(attempt.state == .ended(.done(at: Self.now)))
    }

    @Test("success before running, or after the end, is a bug and changes nothing")
    func succeededWhenClaimedOrEnded() throws {
        var claimed = JobAttempt(lease: JobLease(owner: "a", attempt: 1), policy: Self.policy)
        #expect(throws: ServiceError.self) { try claimed.succeeded(at: Self.now) }
        #expect(claimed.state == .claimed)
        var ended = try Self.running(attempt: 1)
        _ = try ended.failed("x", at: Self.now, jitter: 0)
        #expect(throws: ServiceError.self) { try ended.succeeded(at: Self.now) }
        #expect(ended.state == .ended(.retry(at: Self.now.addingTimeInterval(0.5), error: "x")))
    }

    @Test("a failure with attempts left is retried after a doubling delay, jittered within its upper half",
          arguments: [(1, 0.0, 0.5), (1, 1.0, 1.0), (2, 0.0, 1.0), (2, 1.0, 2.0), (2, 0.5, 1.5)])
    func failedWhenAttemptsRemain(row: (attempt: Int, jitter: Double, delay: TimeInterval)) throws {
        var attempt = try Self.running(attempt: row.attempt)
        let outcome = try attempt.failed("sink down", at: Self.now, jitter: row.jitter)
        #expect(outcome == .retry(at: Self.now.addingTimeInterval(row.delay), error: "sink down"))
    }

    @Test("a failure of the last attempt ends the job failed")
    func failedWhenLastAttempt() throws {
        var attempt = try Self.running(attempt: 3)
        #expect(try attempt.failed("sink down", at: Self.now, jitter: 1)
            == .failed(error: "gave up after 3 attempts; last: sink down"))
    }

    @Test("a failure no retry can fix ends the job failed at once")
    func failedWhenNotRetryable() throws {
        var attempt = try Self.running(attempt: 1)
        #expect(try attempt.failed("bad input", at: Self.now, retryable: false, jitter: 1) == .failed(error: "bad input"))
    }

    @Test("failing twice is a bug")
    func failedWhenEnded() throws {
        var attempt = try Self.running(attempt: 1)
        _ = try attempt.succeeded(at: Self.now)
        #expect(throws: ServiceError.self) { try attempt.failed("x", at: Self.now, jitter: 0) }
        #expect(attempt.state == .ended(.done(at: Self.now)))
    }

    @Test("delays double from the first, are capped, and never shrink below half")
    func retryDelays() {
        let policy = RetryPolicy(firstDelay: 1, maxDelay: 300)
        #expect((1...6).map { policy.delay(afterFailures: $0, jitter: 1) } == [1, 2, 4, 8, 16, 32])
        #expect(policy.delay(afterFailures: 20, jitter: 1) == 300)
        #expect(policy.delay(afterFailures: 10_000, jitter: 0) == 150)
        #expect(RetryPolicy().maxAttempts == 8 && RetryPolicy().leaseDuration == 30, "the documented defaults")
    }
}
