import CoreMetrics
import RPCCore

/// Counts every REST reply by HTTP method and status and times it by method (a bounded set of
/// labels: unknown methods count as OTHER).
final class RESTMetrics: Sendable {
    static let shared = RESTMetrics()

    private struct Key: Hashable {
        var method: String
        var status: Int
    }

    private static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    private let counters = MetricCache<Key, CoreMetrics.Counter> { key in
        CoreMetrics.Counter(label: "http_server_requests_total", dimensions: [("method", key.method), ("status", String(key.status))])
    }
    private let timers = MetricCache<String, CoreMetrics.Timer> { method in
        CoreMetrics.Timer(label: "http_server_request_duration_seconds", dimensions: [("method", method)])
    }

    func record(method: String, status: Int, duration: Duration) {
        let method = Self.knownMethods.contains(method) ? method : "OTHER"
        self.counters(Key(method: method, status: status)).increment()
        self.timers(method).recordNanoseconds(duration.wholeNanoseconds)
    }
}
