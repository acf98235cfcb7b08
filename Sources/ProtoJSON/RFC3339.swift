import ProtoWire

/// RFC 3339 timestamps (the JSON form of `google.protobuf.Timestamp`), years 0001–9999.
///
/// Dates are converted with the proleptic Gregorian "days from civil" arithmetic, so no
/// calendar, locale or time zone database is involved.
package enum RFC3339 {
    /// Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z (protobuf's Timestamp range).
    package static let minimumSeconds: Int64 = -62_135_596_800
    package static let maximumSeconds: Int64 = 253_402_300_799

    /// Appends `YYYY-MM-DDTHH:MM:SSZ` (clamped to the Timestamp range).
    package static func append(seconds: Int64, to bytes: inout [UInt8]) {
        self.appendDateTime(seconds: min(max(seconds, Self.minimumSeconds), Self.maximumSeconds), to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z`, the canonical JSON form of a
    /// Timestamp (protobuf's JSON mapping: 0, 3, 6 or 9 fraction digits, as few as needed).
    ///
    /// Nanoseconds outside 0..<1e9 are carried into the seconds first (as the Python library
    /// does); times outside the Timestamp range are clamped to its ends.
    package static func appendCanonical(_ timestamp: ProtoTimestamp, to bytes: inout [UInt8]) {
        let nanosPerSecond: Int64 = 1_000_000_000
        let rawNanos = Int64(timestamp.nanos)
        var nanos = rawNanos % nanosPerSecond
        // Far outside the range either way; narrowed first so the carry cannot overflow.
        var seconds = min(max(timestamp.seconds, Self.minimumSeconds - 10), Self.maximumSeconds + 10)
        seconds += (rawNanos - nanos) / nanosPerSecond
        if nanos < 0 {
            nanos += nanosPerSecond
            seconds -= 1
        }
        if seconds < Self.minimumSeconds {
            (seconds, nanos) = (Self.minimumSeconds, 0)
        } else if seconds > Self.maximumSeconds {
            (seconds, nanos) = (Self.maximumSeconds, nanosPerSecond - 1)
        }
        self.appendDateTime(seconds: seconds, to: &bytes)
        if nanos != 0 {
            let (digits, value): (Int, Int64) =
                nanos % 1_000_000 == 0 ? (3, nanos / 1_000_000) : nanos % 1000 == 0 ? (6, nanos / 1000) : (9, nanos)
            bytes.append(UInt8(ascii: "."))
            self.appendDigits(value, count: digits, to: &bytes)
        }
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Appends `value` as exactly `count` digits, zero-padded on the left.
    private static func appendDigits(_ value: Int64, count: Int, to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { text in
            Self.write(Int(value), digits: count, into: text, at: 0)
            bytes.append(contentsOf: text)
        }
    }

    /// Writes `value` as exactly `count` digits, zero-padded on the left, at `offset`.
    private static func write(_ value: Int, digits count: Int, into text: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        var value = value
        for index in stride(from: offset + count - 1, through: offset, by: -1) {
            text[index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS` of seconds within the Timestamp range.
    private static func appendDateTime(seconds: Int64, to bytes: inout [UInt8]) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = Self.civil(fromDays: days)
        // Into 19 bytes on the stack, then appended at once (not byte by byte).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 19) { text in
            Self.write(Int(year), digits: 4, into: text, at: 0)
            text[4] = UInt8(ascii: "-")
            Self.write(Int(month), digits: 2, into: text, at: 5)
            text[7] = UInt8(ascii: "-")
            Self.write(Int(day), digits: 2, into: text, at: 8)
            text[10] = UInt8(ascii: "T")
            Self.write(secondOfDay / 3600, digits: 2, into: text, at: 11)
            text[13] = UInt8(ascii: ":")
            Self.write(secondOfDay / 60 % 60, digits: 2, into: text, at: 14)
            text[16] = UInt8(ascii: ":")
            Self.write(secondOfDay % 60, digits: 2, into: text, at: 17)
            bytes.append(contentsOf: text)
        }
    }

    package static func format(_ timestamp: ProtoTimestamp) -> String {
        var bytes: [UInt8] = []
        self.append(seconds: timestamp.seconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; nil when malformed or out of range.
    /// Fractions of up to nine digits are kept as nanoseconds.
    package static func parse(_ text: String) -> ProtoTimestamp? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + count] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            index += count
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return nil }
        guard year >= 1, (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var nanos: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var count = 0
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                guard count < 9 else { return nil }
                nanos = nanos * 10 + Int64(bytes[index] - 0x30)
                count += 1
                index += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<9 { nanos *= 10 }
        }
        var offset: Int64 = 0
        if expect("Zz") {
            offset = 0
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = number(2), expect(":"), let minutes = number(2), hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let seconds = Self.days(fromYear: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        guard (Self.minimumSeconds...Self.maximumSeconds).contains(seconds) else { return nil }
        return ProtoTimestamp(seconds: seconds, nanos: Int32(nanos))
    }

    private static func isLeap(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: Self.isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    private static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01.
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
