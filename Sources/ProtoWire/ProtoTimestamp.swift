import Foundation

/// `google.protobuf.Timestamp`: seconds and nanoseconds since the Unix epoch, UTC.
///
/// Well-known types live here rather than in generated code so every schema module shares one
/// definition; protogen maps `google.protobuf.Timestamp` to this type.
package struct ProtoTimestamp: ProtoMessage, Hashable {
    package static let protoMessageName = "google.protobuf.Timestamp"

    package var seconds: Int64 = 0
    package var nanos: Int32 = 0
    package var unknownFields = UnknownFields()

    package init() {}

    package init(seconds: Int64, nanos: Int32 = 0) {
        self.seconds = seconds
        self.nanos = nanos
    }

    /// The timestamp of a `Date`, rounded down to whole nanoseconds.
    package init(_ date: Date) {
        let interval = date.timeIntervalSince1970
        let seconds = interval.rounded(.down)
        self.seconds = Int64(seconds)
        self.nanos = Int32(min(999_999_999, max(0, ((interval - seconds) * 1e9).rounded(.down))))
    }

    package var date: Date {
        Date(timeIntervalSince1970: Double(self.seconds) + Double(self.nanos) / 1e9)
    }

    package mutating func decodeField(
        _ tag: FieldTag,
        from reader: inout ProtoReader
    ) throws(ProtoDecodingError) -> Bool {
        switch (tag.fieldNumber, tag.wireType) {
        case (1, .varint): self.seconds = try reader.readInt64()
        case (2, .varint): self.nanos = try reader.readInt32()
        default: return false
        }
        return true
    }

    package func encode(to writer: inout ProtoWriter) {
        if self.seconds != 0 { writer.writeInt64(1, self.seconds) }
        if self.nanos != 0 { writer.writeInt32(2, self.nanos) }
        writer.writeRaw(self.unknownFields.bytes)
    }
}
