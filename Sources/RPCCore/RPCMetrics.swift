import CoreMetrics
import ServiceErrors
import Synchronization

/// Counts every finished call by method and status, and times it, through swift-metrics (the
/// server exports them for Prometheus at `/metrics`). The metric objects are made once per
/// method and status and kept, so recording a call is a dictionary lookup and two updates.
package final class RPCMetrics: Sendable {
    package static let shared = RPCMetrics()

    private struct Key: Hashable {
        var path: String
        var code: Int
    }

    private let counters = Mutex<[Key: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])

    package init() {}

    /// Records one finished call; `error` nil means OK.
    package func record(_ method: RPCMethod, error: ServiceError.Code?, duration: Duration) {
        let key = Key(path: method.path, code: error?.rawValue ?? 0)
        let counter = self.counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(
                label: "rpc_server_handled_total",
                dimensions: [("method", method.path), ("code", error?.name ?? "OK")]
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
        let timer = self.timers.withLock { timers in
            if let timer = timers[method.path] { return timer }
            let timer = CoreMetrics.Timer(label: "rpc_server_handling_seconds", dimensions: [("method", method.path)])
            timers[method.path] = timer
            return timer
        }
        let (seconds, attoseconds) = duration.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
