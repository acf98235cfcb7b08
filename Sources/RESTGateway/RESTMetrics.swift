import RPCCore

/// Counts every REST reply by HTTP method and status and times it by method (a bounded set of
/// labels: unknown methods count as OTHER).
final class RESTMetrics: Sendable {
    static let shared = RESTMetrics()

    private static let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"]
    private let byMethod = RESTMetrics.methods.map { method in
        CallMetrics(
            counter: "http_server_requests_total", timer: "http_server_request_duration_seconds",
            dimensions: [("method", method)], outcome: "status"
        )
    }

    func record(method: String, status: Int, duration: Duration) {
        let index = Self.methods.firstIndex(of: method) ?? Self.methods.count - 1
        self.byMethod[index].record(outcome: status, named: String(status), duration: duration)
    }
}
