import Foundation

/// How the database work queues (payouts, analyses) retry: how long a claim holds a job, how
/// many attempts a job gets, and the exponential backoff with jitter between them.
package struct RetryPolicy: Sendable, Equatable {
    /// Attempts before a job is recorded as `failed` (a claim counts as an attempt, so a job whose
    /// instance keeps dying also ends). Default 8: with the delays below, about 2 minutes of retries.
    package var maxAttempts: Int
    /// How long a claim holds a job; another instance takes the job over after that. It must be
    /// longer than one attempt takes. Default 30 s.
    package var leaseDuration: TimeInterval
    /// The delay after the first failure; it doubles after each further one. Default 1 s.
    package var firstDelay: TimeInterval
    /// The longest delay. Default 5 minutes.
    package var maxDelay: TimeInterval

    package init(maxAttempts: Int = 8, leaseDuration: TimeInterval = 30, firstDelay: TimeInterval = 1, maxDelay: TimeInterval = 300) {
        self.maxAttempts = maxAttempts
        self.leaseDuration = leaseDuration
        self.firstDelay = firstDelay
        self.maxDelay = maxDelay
    }

    /// The delay after `failures` consecutive failures (1 for the first): `firstDelay · 2^(failures−1)`,
    /// capped at `maxDelay`, of which the upper half is scaled by `jitter` (0…1, "equal jitter"), so
    /// instances that failed together do not retry together, and a delay never shrinks below half.
    package func delay(afterFailures failures: Int, jitter: Double) -> TimeInterval {
        let exponent = Double(min(max(failures, 1) - 1, 30))
        let full = min(self.maxDelay, self.firstDelay * pow(2, exponent))
        return full / 2 + full / 2 * min(max(jitter, 0), 1)
    }
}
