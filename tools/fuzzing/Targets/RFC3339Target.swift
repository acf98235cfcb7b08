import ProtoJSON
import ProtoWire

/// RFC 3339 timestamps as the JSON mapping reads them (any offset, fractions up to nanoseconds).
///
/// Property: a parsed time is in range, and formatting it (UTC, whole seconds) parses back to
/// the same second.
enum RFC3339Target {
    @Sendable static func run(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let timestamp = RFC3339.parse(text) else { return }
        precondition((RFC3339.minimumSeconds...RFC3339.maximumSeconds).contains(timestamp.seconds), "out of range")
        precondition((0..<1_000_000_000).contains(timestamp.nanos), "nanos out of range")
        let formatted = RFC3339.format(timestamp)
        guard let again = RFC3339.parse(formatted) else { preconditionFailure("'\(formatted)' does not parse") }
        precondition(
            again.seconds == timestamp.seconds && again.nanos == 0, "'\(text)' → '\(formatted)' changes the time"
        )
    }

    static var seeds: [[UInt8]] {
        [
            "2026-03-16T10:00:00Z", "2026-03-16T10:00:00.123456789+05:30", "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z", "2024-02-29T12:00:00-08:00", "1970-01-01T00:00:00.5z",
        ].map { Array($0.utf8) }
    }
}
