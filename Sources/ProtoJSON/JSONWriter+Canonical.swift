import ProtoWire

/// The value writers of protobuf's canonical JSON mapping (ProtoJSON) where it differs from the
/// REST mapping; the generated `writeCanonicalJSONMembers` calls them, and the shared writers
/// (`string`, `bool`, `bytes`, 32-bit `integer`) for everything else.
extension JSONWriter {
    /// A 64-bit integer as a decimal string (`"9223372036854775807"`), so JavaScript's doubles
    /// cannot round it.
    package mutating func quotedInteger(_ value: some BinaryInteger) {
        self.separate()
        self.bytes.append(UInt8(ascii: "\""))
        self.appendDigits(value)
        self.bytes.append(UInt8(ascii: "\""))
        self.needsComma = true
    }

    /// A `float` by its shortest text that reads back as the same `Float` (`0.1`, not
    /// `0.10000000149011612`), as protojson writes it; NaN and the infinities as strings.
    package mutating func canonicalFloat(_ value: Float) {
        if value.isNaN || value.isInfinite || value == 0 {
            self.canonicalDouble(Double(value))
        } else if value == value.rounded(), abs(value) <= 16_777_216 {
            // Integers a float holds exactly (up to 2^24) as integers, like `double`: `100`, not `100.0`.
            self.integer(Int32(value))
        } else {
            // Swift's description is the shortest round-tripping text, and valid JSON for finite
            // values (`1e-45`, `3.4028235e+38`, `0.1`).
            self.raw(value.description)
        }
    }

    /// A `double` as the REST mapping writes it, except negative zero: `-0.0`, which parsers
    /// that read `-0` as the integer 0 (Python's) keep negative.
    package mutating func canonicalDouble(_ value: Double) {
        if value == 0 && value.sign == .minus {
            self.literal("-0.0")
        } else {
            self.double(value)
        }
    }

    /// RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits, as few as the nanoseconds need:
    /// `2026-03-16T10:00:00Z`, `2026-03-16T10:00:00.500Z`, `2026-03-16T10:00:00.000001Z`.
    package mutating func canonicalTimestamp(_ value: ProtoTimestamp) {
        self.separate()
        self.bytes.append(UInt8(ascii: "\""))
        RFC3339.appendCanonical(value, to: &self.bytes)
        self.bytes.append(UInt8(ascii: "\""))
        self.needsComma = true
    }

    /// The full value name (`SESSION_STATUS_ACTIVE`), or the number when this build does not
    /// know it.
    package mutating func canonicalEnumeration<Value: ProtoJSONEnum>(_ value: Value) {
        if let name = value.protoName { self.string(name) } else { self.integer(value.protoValue) }
    }
}
