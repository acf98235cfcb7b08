import CoreMetrics
import Synchronization

/// Counts and times every REST reply by HTTP method and status (a bounded set of labels), kept
/// once made so recording is a lookup and two updates.
final class RESTMetrics: Sendable {
    static let shared = RESTMetrics()

    private struct Key: Hashable {
        var method: String
        var status: Int
    }

    private let counters = Mutex<[Key: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])
    private static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func record(method: String, status: Int, duration: Duration) {
        let method = Self.knownMethods.contains(method) ? method : "OTHER"
        let counter = self.counters.withLock { counters in
            let key = Key(method: method, status: status)
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(
                label: "http_server_requests_total", dimensions: [("method", method), ("status", String(status))])
            counters[key] = counter
            return counter
        }
        counter.increment()
        let timer = self.timers.withLock { timers in
            if let timer = timers[method] { return timer }
            let timer = CoreMetrics.Timer(label: "http_server_request_duration_seconds", dimensions: [("method", method)])
            timers[method] = timer
            return timer
        }
        let (seconds, attoseconds) = duration.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
