import Foundation
import ProtoJSON
import ProtoWire
import TestSupport
import Testing

@Suite("RFC 3339 timestamps")
struct RFC3339Tests {
    /// Foundation switches to the Julian calendar before October 1582; RFC 3339 (and protobuf)
    /// use the proleptic Gregorian one, so the comparison starts in 1600.
    static let year1600: Int64 = -11_676_096_000

    @Test("formats whole seconds in UTC exactly as Foundation does, 1600 to 9999")
    func formatting() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SystemRandomNumberGenerator()
        var samples: [Int64] = [0, -1, 86_399, 86_400, 951_782_400, 1_773_655_200, Self.year1600, RFC3339.maximumSeconds]
        for _ in 0..<5000 { samples.append(Int64.random(in: Self.year1600...RFC3339.maximumSeconds, using: &generator)) }
        for seconds in samples {
            let ours = RFC3339.format(ProtoTimestamp(seconds: seconds, nanos: 999_999_999))
            let theirs = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(ours == theirs, "\(seconds)")
            #expect(RFC3339.parse(ours) == ProtoTimestamp(seconds: seconds))
        }
    }

    @Test("the canonical form has 0, 3, 6 or 9 fraction digits, as few as the nanoseconds need", arguments: [
        (1_773_655_200, 0, "2026-03-16T10:00:00Z"),
        (1_773_655_200, 500_000_000, "2026-03-16T10:00:00.500Z"),
        (1_773_655_200, 120_000_000, "2026-03-16T10:00:00.120Z"),
        (1_773_655_200, 1000, "2026-03-16T10:00:00.000001Z"),
        (1_773_655_200, 123_456_000, "2026-03-16T10:00:00.123456Z"),
        (1_773_655_200, 5, "2026-03-16T10:00:00.000000005Z"),
        (-1, 123_456_789, "1969-12-31T23:59:59.123456789Z"),
        // Nanoseconds out of range carry into the seconds; times out of range clamp to its ends.
        (0, -1, "1969-12-31T23:59:59.999999999Z"),
        (0, 1_500_000_000, "1970-01-01T00:00:01.500Z"),
        (Int64.max, 0, "9999-12-31T23:59:59.999999999Z"),
        (Int64.min, 5, "0001-01-01T00:00:00Z"),
    ] as [(Int64, Int32, String)])
    func canonicalFormatting(_ seconds: Int64, _ nanos: Int32, _ expected: String) {
        var bytes: [UInt8] = []
        RFC3339.appendCanonical(ProtoTimestamp(seconds: seconds, nanos: nanos), to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }

    @Test("the canonical form reads back to the same Timestamp")
    func canonicalRoundTrip() async {
        var generator = SystemRandomNumberGenerator()
        for index in 0..<5000 {
            await yieldNowAndThen(iteration: index, every: 500)
            let seconds = Int64.random(in: RFC3339.minimumSeconds...RFC3339.maximumSeconds, using: &generator)
            let unit: Int32 = [0, 1_000_000, 1000, 1].randomElement(using: &generator)!
            let nanos = unit * Int32.random(in: 0..<1000, using: &generator)
            let timestamp = ProtoTimestamp(seconds: seconds, nanos: nanos)
            var bytes: [UInt8] = []
            RFC3339.appendCanonical(timestamp, to: &bytes)
            #expect(RFC3339.parse(String(decoding: bytes, as: UTF8.self)) == timestamp)
        }
    }

    @Test("the proleptic Gregorian calendar down to year 1")
    func earlyDates() {
        #expect(RFC3339.format(ProtoTimestamp(seconds: RFC3339.minimumSeconds)) == "0001-01-01T00:00:00Z")
        #expect(RFC3339.parse("0001-01-01T00:00:00Z") == ProtoTimestamp(seconds: RFC3339.minimumSeconds))
        #expect(RFC3339.format(ProtoTimestamp(seconds: -12_219_292_800)) == "1582-10-15T00:00:00Z")
        #expect(RFC3339.parse("1582-10-14T00:00:00Z") == ProtoTimestamp(seconds: -12_219_379_200))
    }

    @Test("accepts fractions and any UTC offset", arguments: [
        ("2026-03-16T10:00:00Z", 1_773_655_200, 0),
        ("2026-03-16T10:00:00.5Z", 1_773_655_200, 500_000_000),
        ("2026-03-16T10:00:00.123456789Z", 1_773_655_200, 123_456_789),
        ("2026-03-16T12:00:00+02:00", 1_773_655_200, 0),
        ("2026-03-16T04:30:00.250-05:30", 1_773_655_200, 250_000_000),
        ("2026-03-16t10:00:00z", 1_773_655_200, 0),
        ("2024-02-29T00:00:00Z", 1_709_164_800, 0),
    ])
    func parsing(_ text: String, _ seconds: Int64, _ nanos: Int32) {
        #expect(RFC3339.parse(text) == ProtoTimestamp(seconds: seconds, nanos: nanos))
    }

    @Test("rejects malformed and impossible times", arguments: [
        "2026-03-16T10:00:00", "2026-03-16 10:00", "2026-3-16T10:00:00Z", "2026-03-16T10:00:00.Z",
        "2026-03-16T10:00:00.1234567891Z", "2025-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-03-16T24:00:00Z", "2026-03-16T10:60:00Z", "2026-03-16T10:00:60Z", "2026-03-16T10:00:00+2:00",
        "0000-12-31T00:00:00Z", "2026-03-16T10:00:00Zjunk", "",
    ])
    func rejecting(_ text: String) {
        #expect(RFC3339.parse(text) == nil)
    }
}
