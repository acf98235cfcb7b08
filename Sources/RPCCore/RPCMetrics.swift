import CoreMetrics
import ServiceErrors

/// Counts every finished call by method and status, and times it by method, through
/// swift-metrics (the server exports them for Prometheus at `/metrics`).
package final class RPCMetrics: Sendable {
    package static let shared = RPCMetrics()

    private struct Key: Hashable {
        var path: String
        var code: ServiceError.Code?
    }

    private let counters = MetricCache<Key, CoreMetrics.Counter> { key in
        CoreMetrics.Counter(label: "rpc_server_handled_total", dimensions: [("method", key.path), ("code", key.code?.name ?? "OK")])
    }
    private let timers = MetricCache<String, CoreMetrics.Timer> { path in
        CoreMetrics.Timer(label: "rpc_server_handling_seconds", dimensions: [("method", path)])
    }

    package init() {}

    /// Records one finished call; `error` nil means OK.
    package func record(_ method: RPCMethod, error: ServiceError.Code?, duration: Duration) {
        self.counters(Key(path: method.path, code: error)).increment()
        self.timers(method.path).recordNanoseconds(duration.wholeNanoseconds)
    }
}
