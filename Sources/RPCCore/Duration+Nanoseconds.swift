extension Duration {
    /// The duration in whole nanoseconds, as swift-metrics timers take it.
    package var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
