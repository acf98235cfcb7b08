/// Appends protobuf wire-format values to a growing byte array.
///
/// Nested messages are written in place: the writer reserves one byte for the length, writes the
/// message, then widens the prefix if the message turned out longer than 127 bytes. This avoids
/// a separate size pass and a temporary buffer per nested message.
package struct ProtoWriter: Sendable {
    package private(set) var bytes: [UInt8]

    package init(reservingCapacity capacity: Int = 64) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
    }

    // MARK: Primitives

    @inlinable
    package mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            self.bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        self.bytes.append(UInt8(value))
    }

    @inlinable
    package mutating func writeTag(_ fieldNumber: Int, _ wireType: WireType) {
        self.writeVarint(UInt64(fieldNumber) << 3 | UInt64(wireType.rawValue))
    }

    @inlinable
    package mutating func writeFixed32(_ value: UInt32) {
        var value = value.littleEndian
        withUnsafeBytes(of: &value) { self.bytes.append(contentsOf: $0) }
    }

    @inlinable
    package mutating func writeFixed64(_ value: UInt64) {
        var value = value.littleEndian
        withUnsafeBytes(of: &value) { self.bytes.append(contentsOf: $0) }
    }

    @inlinable
    package mutating func writeLengthDelimited(_ content: some Collection<UInt8>) {
        self.writeVarint(UInt64(content.count))
        self.bytes.append(contentsOf: content)
    }

    package mutating func writeRaw(_ raw: [UInt8]) {
        if !raw.isEmpty { self.bytes.append(contentsOf: raw) }
    }

    /// Writes a length prefix followed by whatever `body` writes.
    package mutating func writeLengthPrefixed(_ body: (inout ProtoWriter) -> Void) {
        let prefixAt = self.bytes.count
        self.bytes.append(0)
        let start = self.bytes.count
        body(&self)
        let length = self.bytes.count - start
        if length < 0x80 {
            self.bytes[prefixAt] = UInt8(length)
            return
        }
        // Widen the one-byte prefix in place to the varint's size, then fill it in.
        var size = 1
        while length >> (7 * size) != 0 { size += 1 }
        self.bytes.insert(contentsOf: repeatElement(0, count: size - 1), at: start)
        var value = UInt64(length)
        for index in prefixAt..<(prefixAt + size) {
            self.bytes[index] = UInt8(truncatingIfNeeded: value) | (value >= 0x80 ? 0x80 : 0)
            value >>= 7
        }
    }

    // MARK: Typed fields (always written; callers skip proto3 defaults)

    package mutating func writeInt32(_ field: Int, _ value: Int32) {
        self.writeTag(field, .varint)
        self.writeVarint(UInt64(bitPattern: Int64(value)))  // negative values take 10 bytes
    }

    package mutating func writeInt64(_ field: Int, _ value: Int64) {
        self.writeTag(field, .varint)
        self.writeVarint(UInt64(bitPattern: value))
    }

    package mutating func writeUInt32(_ field: Int, _ value: UInt32) {
        self.writeTag(field, .varint)
        self.writeVarint(UInt64(value))
    }

    package mutating func writeUInt64(_ field: Int, _ value: UInt64) {
        self.writeTag(field, .varint)
        self.writeVarint(value)
    }

    package mutating func writeSInt32(_ field: Int, _ value: Int32) {
        self.writeTag(field, .varint)
        self.writeVarint(UInt64(ZigZag.encode32(value)))
    }

    package mutating func writeSInt64(_ field: Int, _ value: Int64) {
        self.writeTag(field, .varint)
        self.writeVarint(ZigZag.encode64(value))
    }

    package mutating func writeBool(_ field: Int, _ value: Bool) {
        self.writeTag(field, .varint)
        self.bytes.append(value ? 1 : 0)
    }

    package mutating func writeEnum(_ field: Int, _ value: Int32) {
        self.writeInt32(field, value)
    }

    package mutating func writeFixed32(_ field: Int, _ value: UInt32) {
        self.writeTag(field, .fixed32)
        self.writeFixed32(value)
    }

    package mutating func writeFixed64(_ field: Int, _ value: UInt64) {
        self.writeTag(field, .fixed64)
        self.writeFixed64(value)
    }

    package mutating func writeSFixed32(_ field: Int, _ value: Int32) {
        self.writeFixed32(field, UInt32(bitPattern: value))
    }

    package mutating func writeSFixed64(_ field: Int, _ value: Int64) {
        self.writeFixed64(field, UInt64(bitPattern: value))
    }

    package mutating func writeFloat(_ field: Int, _ value: Float) {
        self.writeFixed32(field, value.bitPattern)
    }

    package mutating func writeDouble(_ field: Int, _ value: Double) {
        self.writeFixed64(field, value.bitPattern)
    }

    package mutating func writeString(_ field: Int, _ value: String) {
        self.writeTag(field, .lengthDelimited)
        var value = value
        value.withUTF8 { self.writeLengthDelimited($0) }
    }

    package mutating func writeBytes(_ field: Int, _ value: [UInt8]) {
        self.writeTag(field, .lengthDelimited)
        self.writeLengthDelimited(value)
    }

    package mutating func writeMessage(_ field: Int, _ message: some ProtoMessage) {
        self.writeTag(field, .lengthDelimited)
        self.writeLengthPrefixed { message.encode(to: &$0) }
    }

    /// Writes a packed repeated field: one tag, a length, then each element as `element` writes it.
    package mutating func writePacked<T>(_ field: Int, _ values: [T], _ element: (inout ProtoWriter, T) -> Void) {
        guard !values.isEmpty else { return }
        self.writeTag(field, .lengthDelimited)
        self.writeLengthPrefixed { writer in
            for value in values { element(&writer, value) }
        }
    }
}

/// ZigZag encoding for `sint32`/`sint64`.
package enum ZigZag {
    @inlinable
    package static func encode32(_ value: Int32) -> UInt32 {
        UInt32(bitPattern: (value << 1) ^ (value >> 31))
    }

    @inlinable
    package static func encode64(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inlinable
    package static func decode32(_ value: UInt32) -> Int32 {
        Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    @inlinable
    package static func decode64(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }
}
