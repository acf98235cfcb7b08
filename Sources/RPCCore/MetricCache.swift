import Synchronization

/// Metric objects made once per key and kept: swift-metrics looks a metric up in its factory on
/// every construction, so callers on a hot path fetch theirs from here instead.
package final class MetricCache<Key: Hashable & Sendable, Metric: Sendable>: Sendable {
    private let made = Mutex<[Key: Metric]>([:])
    private let make: @Sendable (Key) -> Metric

    package init(_ make: @escaping @Sendable (Key) -> Metric) {
        self.make = make
    }

    package func callAsFunction(_ key: Key) -> Metric {
        self.made.withLock { made in
            if let metric = made[key] { return metric }
            let metric = self.make(key)
            made[key] = metric
            return metric
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds, as swift-metrics timers take it.
    package var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
