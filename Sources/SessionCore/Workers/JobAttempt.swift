import Foundation
import ServiceErrors

/// One claimed attempt at a job of a database work queue. It decides, without I/O, what the
/// owner records when the attempt starts and ends; the owner records it with a change guarded by
/// `lease`.
package struct JobAttempt: Sendable, Equatable {
    package enum State: Sendable, Equatable {
        case claimed
        case running
        case ended(JobOutcome)
    }

    package enum Action: Sendable, Equatable {
        /// Do the work, then report `succeeded` or `failed`.
        case run
        /// Do not run; record this outcome.
        case record(JobOutcome)
    }

    package let lease: JobLease
    package let policy: RetryPolicy
    package private(set) var state: State = .claimed

    package init(lease: JobLease, policy: RetryPolicy) {
        self.lease = lease
        self.policy = policy
    }

    /// The job was claimed. A claim past the last attempt (its holder died during the last
    /// attempt, and the lease expired) ends the job as failed without running it again.
    package mutating func start(lastError: String?) throws(ServiceError) -> Action {
        switch self.state {
        case .claimed:
            guard self.lease.attempt <= self.policy.maxAttempts else {
                let outcome = JobOutcome.failed(
                    error: "gave up after \(self.policy.maxAttempts) attempts; last: \(lastError ?? "the lease expired")")
                self.state = .ended(outcome)
                return .record(outcome)
            }
            self.state = .running
            return .run
        case .running, .ended:
            throw ServiceError(.internal, "attempt \(self.lease.attempt) was started twice")
        }
    }

    /// The work is done.
    package mutating func succeeded(at now: Date) throws(ServiceError) -> JobOutcome {
        switch self.state {
        case .running:
            let outcome = JobOutcome.done(at: now)
            self.state = .ended(outcome)
            return outcome
        case .claimed, .ended:
            throw ServiceError(.internal, "attempt \(self.lease.attempt) succeeded without running")
        }
    }

    /// The work failed: queued again after the backoff delay (`jitter` in 0…1), or failed for good
    /// when this was the last attempt or when `retryable` is false.
    package mutating func failed(_ error: String, at now: Date, retryable: Bool = true, jitter: Double) throws(ServiceError)
        -> JobOutcome
    {
        switch self.state {
        case .running:
            let outcome: JobOutcome
            if !retryable {
                outcome = .failed(error: error)
            } else if self.lease.attempt >= self.policy.maxAttempts {
                outcome = .failed(error: "gave up after \(self.policy.maxAttempts) attempts; last: \(error)")
            } else {
                let delay = self.policy.delay(afterFailures: self.lease.attempt, jitter: jitter)
                outcome = .retry(at: now.addingTimeInterval(delay), error: error)
            }
            self.state = .ended(outcome)
            return outcome
        case .claimed, .ended:
            throw ServiceError(.internal, "attempt \(self.lease.attempt) failed without running")
        }
    }
}
