import CoreMetrics
import ServiceErrors
import Synchronization

/// Counts every finished call of one method by status, and times it, through swift-metrics (the
/// server exports them for Prometheus at `/metrics`). Each route holds one, so the hot path
/// looks nothing up by name.
package final class RPCMethodMetrics: Sendable {
    private let path: String
    /// Made on first use, after the process has bootstrapped its metrics backend.
    private let made = Mutex<Made?>(nil)

    private struct Made {
        var timer: CoreMetrics.Timer
        /// Indexed by status code number; OK is 0.
        var counters: [CoreMetrics.Counter?] = Array(repeating: nil, count: ServiceError.Code.allCases.count + 1)
    }

    package init(path: String) {
        self.path = path
    }

    /// Records one finished call; `error` nil means OK.
    package func record(error: ServiceError.Code?, duration: Duration) {
        let code = error?.rawValue ?? 0
        let (counter, timer) = self.made.withLock { made in
            if made == nil {
                made = Made(timer: CoreMetrics.Timer(label: "rpc_server_handling_seconds", dimensions: [("method", self.path)]))
            }
            if made!.counters[code] == nil {
                made!.counters[code] = CoreMetrics.Counter(
                    label: "rpc_server_handled_total", dimensions: [("method", self.path), ("code", error?.name ?? "OK")]
                )
            }
            return (made!.counters[code]!, made!.timer)
        }
        counter.increment()
        timer.recordNanoseconds(duration.wholeNanoseconds)
    }
}
