import Foundation

/// Who holds a claimed job: the instance that claimed it and the attempt the claim started.
///
/// Every change to a claimed job is guarded by its lease (`WHERE status = 'claimed' AND
/// lease_owner = … AND attempts = …`), so an instance whose lease expired and was taken over
/// can no longer change the job: its late update matches no row and fails with `aborted`.
package struct JobLease: Sendable, Equatable, Codable {
    /// The claiming instance's ID.
    package var owner: String
    /// The attempt this claim started (the job's attempt count after the claim).
    package var attempt: Int

    package init(owner: String, attempt: Int) {
        self.owner = owner
        self.attempt = attempt
    }
}

/// A request to claim due jobs from a database work queue.
///
/// A job is due when it is queued and its next attempt time has come, or when it is claimed and
/// its lease has expired (its instance died or stalled): that job is taken over. Claiming marks
/// it claimed by `owner` until `leaseExpiresAt` and counts the attempt.
package struct JobClaim: Sendable, Equatable {
    package var owner: String
    package var now: Date
    package var leaseExpiresAt: Date
    package var limit: Int

    package init(owner: String, now: Date, leaseDuration: TimeInterval, limit: Int) {
        self.owner = owner
        self.now = now
        self.leaseExpiresAt = now.addingTimeInterval(leaseDuration)
        self.limit = limit
    }
}

/// How a claimed job ends, recorded with a guard on its lease.
package enum JobOutcome: Sendable, Equatable {
    /// Done: a payout is delivered, an analysis job is removed.
    case done(at: Date)
    /// Failed this time; queued again for `at`, keeping the error.
    case retry(at: Date, error: String)
    /// Failed for good (out of attempts, or an error that no retry can fix); kept as `failed`.
    case failed(error: String)
}

extension JobOutcome {
    /// What both stores record for an outcome: the job's status (`done` names a finished job's),
    /// when it finished, when it is retried, and the error.
    package func recorded(done: String) -> (status: String, doneAt: Date?, retryAt: Date?, error: String?) {
        switch self {
        case .done(let at): (done, at, nil, nil)
        case .retry(let at, let error): ("queued", nil, at, error)
        case .failed(let error): ("failed", nil, nil, error)
        }
    }
}
