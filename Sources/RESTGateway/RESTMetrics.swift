import CoreMetrics
import RPCCore
import Synchronization

/// Counts every REST reply by HTTP method and status and times it by method (a bounded set of
/// labels: unknown methods count as OTHER).
final class RESTMetrics: Sendable {
    static let shared = RESTMetrics()

    private static let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"]

    /// Per method (by its index in `methods`): the timer and the counter of each status seen.
    /// Made on first use, after the process bootstrapped its metrics backend.
    private let made = Mutex<[(timer: CoreMetrics.Timer, counters: [Int: CoreMetrics.Counter])?]>(
        Array(repeating: nil, count: RESTMetrics.methods.count)
    )

    func record(method: String, status: Int, duration: Duration) {
        let index = Self.methods.firstIndex(of: method) ?? Self.methods.count - 1
        let (counter, timer) = self.made.withLock { made in
            let name = Self.methods[index]
            var metrics = made[index] ?? (
                CoreMetrics.Timer(label: "http_server_request_duration_seconds", dimensions: [("method", name)]), [:]
            )
            if let counter = metrics.counters[status], made[index] != nil { return (counter, metrics.timer) }
            let counter = metrics.counters[status] ?? CoreMetrics.Counter(
                label: "http_server_requests_total", dimensions: [("method", name), ("status", String(status))]
            )
            metrics.counters[status] = counter
            made[index] = metrics
            return (counter, metrics.timer)
        }
        counter.increment()
        timer.recordNanoseconds(duration.wholeNanoseconds)
    }
}
