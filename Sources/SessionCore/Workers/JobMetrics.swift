import CoreMetrics

/// `sessiond_jobs_total{queue, outcome}`: every recorded attempt of a queued job (`analysis`,
/// `payouts`): `done`, `retry` (failed, retried after a backoff) or `failed` (for good, after
/// `RetryPolicy.maxAttempts` or an error that no retry can fix). Counted after the outcome is
/// committed, so the counts match the store.
enum JobMetrics {
    static func record(_ outcome: JobOutcome, queue: String) {
        let name =
            switch outcome {
            case .done: "done"
            case .retry: "retry"
            case .failed: "failed"
            }
        Counter(label: "sessiond_jobs_total", dimensions: [("queue", queue), ("outcome", name)]).increment()
    }
}
