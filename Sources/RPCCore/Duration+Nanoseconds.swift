extension Duration {
    /// The duration in whole nanoseconds, as swift-metrics timers take it.
    package var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

extension Duration {
    /// Milliseconds with three decimals (`12.345`), as access logs write them.
    package var millisecondsText: String {
        let microseconds = self.wholeNanoseconds / 1_000
        let fraction = String(microseconds % 1_000)
        return "\(microseconds / 1_000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
