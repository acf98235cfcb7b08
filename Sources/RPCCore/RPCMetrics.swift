import CoreMetrics
import ServiceErrors
import Synchronization

/// Counts finished calls by outcome and times them, for one RPC method or one HTTP method,
/// through swift-metrics (exported for Prometheus at `/metrics`). Whoever serves the calls holds
/// one per method, so the hot path looks nothing up by name.
package final class CallMetrics: Sendable {
    private let counterLabel: String
    private let timerLabel: String
    private let dimensions: [(String, String)]
    /// The dimension that names a call's outcome (`code`, `status`).
    private let outcomeDimension: String
    /// Made on first use, after the process has bootstrapped its metrics backend.
    private let made = Mutex<(timer: CoreMetrics.Timer, counters: [Int: CoreMetrics.Counter])?>(nil)

    package init(counter: String, timer: String, dimensions: [(String, String)], outcome: String) {
        self.counterLabel = counter
        self.timerLabel = timer
        self.dimensions = dimensions
        self.outcomeDimension = outcome
    }

    /// Records one finished call whose outcome is `outcome`, labelled `name`.
    package func record(outcome: Int, named name: @autoclosure () -> String, duration: Duration) {
        let (counter, timer) = self.made.withLock { made in
            if let metrics = made, let counter = metrics.counters[outcome] { return (counter, metrics.timer) }
            var metrics = made ?? (CoreMetrics.Timer(label: self.timerLabel, dimensions: self.dimensions), [:])
            let counter = CoreMetrics.Counter(
                label: self.counterLabel, dimensions: self.dimensions + [(self.outcomeDimension, name())]
            )
            metrics.counters[outcome] = counter
            made = metrics
            return (counter, metrics.timer)
        }
        counter.increment()
        timer.recordNanoseconds(duration.wholeNanoseconds)
    }
}

extension CallMetrics {
    /// The metrics of one RPC method: `rpc_server_handled_total{method,code}` and
    /// `rpc_server_handling_seconds{method}`.
    package static func rpc(_ path: String) -> CallMetrics {
        CallMetrics(counter: "rpc_server_handled_total", timer: "rpc_server_handling_seconds", dimensions: [("method", path)], outcome: "code")
    }

    /// Records one finished RPC; `error` nil means OK.
    package func record(error: ServiceError.Code?, duration: Duration) {
        self.record(outcome: error?.rawValue ?? 0, named: error?.name ?? "OK", duration: duration)
    }
}
