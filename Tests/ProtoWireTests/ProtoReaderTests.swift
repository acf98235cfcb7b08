import ProtoWire
import Testing

/// A hand-written message, so these tests need no generated code.
private struct Pair: ProtoMessage {
    static let protoMessageName = "test.Pair"
    var number: Int64 = 0
    var text = ""
    var child: [Pair] = []
    var unknownFields = UnknownFields()

    mutating func decodeField(_ tag: FieldTag, from reader: inout ProtoReader) throws(ProtoDecodingError) -> Bool {
        switch (tag.fieldNumber, tag.wireType) {
        case (1, .varint): self.number = try reader.readInt64()
        case (2, .lengthDelimited): self.text = try reader.readString()
        case (3, .lengthDelimited): self.child.append(try reader.readMessage(Pair.self))
        default: return false
        }
        return true
    }

    func encode(to writer: inout ProtoWriter) {
        if self.number != 0 { writer.writeInt64(1, self.number) }
        if !self.text.isEmpty { writer.writeString(2, self.text) }
        for child in self.child { writer.writeMessage(3, child) }
        writer.writeRaw(self.unknownFields.bytes)
    }
}

@Suite("ProtoReader and ProtoWriter")
struct ProtoReaderTests {
    @Test("varints round-trip at every width", arguments: [
        UInt64(0), 1, 127, 128, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max - 1, UInt64.max,
    ])
    func varintRoundTrip(value: UInt64) throws {
        var writer = ProtoWriter()
        writer.writeVarint(value)
        let bytes = writer.bytes
        #expect(bytes.count == max(1, (64 - value.leadingZeroBitCount + 6) / 7))
        let (decoded, atEnd) = try bytes.withUnsafeBytes { raw in
            var reader = ProtoReader(raw)
            let decoded = try reader.readVarint()
            return (decoded, reader.isAtEnd)
        }
        #expect(decoded == value)
        #expect(atEnd)
    }

    @Test("known encodings from the protobuf documentation")
    func documentedEncodings() {
        var writer = ProtoWriter()
        writer.writeInt32(1, 150)  // "08 96 01" in the encoding guide
        #expect(writer.bytes == [0x08, 0x96, 0x01])
        var negative = ProtoWriter()
        negative.writeInt32(1, -1)  // negative int32 is sign-extended to ten bytes
        #expect(negative.bytes == [0x08] + Array(repeating: 0xFF, count: 9) + [0x01])
        #expect(ZigZag.encode32(-1) == 1 && ZigZag.encode32(1) == 2 && ZigZag.encode64(.min) == .max)
        #expect(ZigZag.decode64(ZigZag.encode64(-12345)) == -12345)
    }

    @Test("nested messages longer than 127 bytes get a wider length prefix")
    func widePrefix() throws {
        var inner = Pair()
        inner.text = String(repeating: "a", count: 300)
        var outer = Pair()
        outer.child = [inner, Pair()]
        outer.number = -5
        let decoded = try Pair(serializedBytes: outer.serializedBytes())
        #expect(decoded == outer)
    }

    @Test("malformed input is rejected with the right error", arguments: [
        ([0x08], ProtoDecodingError.Kind.truncated),  // tag without value
        ([0x08, 0x80], .truncated),  // varint cut short
        ([0x08] + Array(repeating: 0x80, count: 10) + [0x01], .malformedVarint),  // 11-byte varint
        ([0x12, 0x05, 0x61], .lengthOutOfBounds),  // length past the end
        ([0x12, 0x02, 0xC3, 0x28], .invalidUTF8),  // invalid UTF-8 in a string field
        // A 4-byte sequence cut short: repaired to one U+FFFD of the same length, other bytes.
        ([0x12, 0x04, 0x61, 0xF0, 0x90, 0x80], .invalidUTF8),
        ([0x12, 0x03, 0xED, 0xA0, 0x80], .invalidUTF8),  // a UTF-16 surrogate
        ([0x0E, 0x00], .invalidWireType),  // wire type 6
        ([0x0F, 0x00], .invalidWireType),  // wire type 7
        ([0x00, 0x00], .invalidFieldNumber),  // field number 0
        ([0x0C], .unmatchedGroup),  // end-group without start
        ([0x0B, 0x08, 0x01], .unmatchedGroup),  // start-group never closed
        ([0x0B, 0x14], .unmatchedGroup),  // group closed with another field number
        ([0x25, 0x01, 0x02], .truncated),  // fixed32 cut short
        ([0x21, 0x01], .truncated),  // fixed64 cut short
    ] as [([UInt8], ProtoDecodingError.Kind)])
    func rejectsMalformed(bytes: [UInt8], kind: ProtoDecodingError.Kind) {
        #expect {
            _ = try Pair(serializedBytes: bytes)
        } throws: { error in
            (error as? ProtoDecodingError)?.kind == kind
        }
    }

    @Test("unknown fields, groups included, are kept and re-encoded unchanged")
    func unknownFieldsPreserved() throws {
        let bytes: [UInt8] = [
            0x08, 0x07,  // number = 7
            0xA0, 0x06, 0x2A,  // field 100 varint
            0xA3, 0x06, 0x08, 0x01, 0xA4, 0x06,  // field 100 group { field 1: 1 }
            0x10, 0x05,  // field 2 with the wrong wire type: kept as unknown, as protobuf does
        ]
        let decoded = try Pair(serializedBytes: bytes)
        #expect(decoded.number == 7)
        #expect(decoded.unknownFields.bytes == Array(bytes[2...]))
        #expect(decoded.serializedBytes() == [0x08, 0x07] + Array(bytes[2...]))
    }

    @Test("nesting deeper than the limit is rejected, not a stack overflow")
    func nestingLimit() {
        var message = Pair()
        for _ in 0..<(ProtoReader.maxDepth + 5) {
            var outer = Pair()
            outer.child = [message]
            message = outer
        }
        #expect(throws: ProtoDecodingError.self) { try Pair(serializedBytes: message.serializedBytes()) }
    }

    @Test("a repeated message field merges occurrences; a later scalar wins")
    func lastScalarWins() throws {
        let bytes: [UInt8] = [0x08, 0x01, 0x08, 0x02, 0x12, 0x01, 0x61, 0x12, 0x01, 0x62]
        let decoded = try Pair(serializedBytes: bytes)
        #expect(decoded.number == 2)
        #expect(decoded.text == "b")
    }

    @Test("timestamps convert to and from Date")
    func timestamps() {
        let stamp = ProtoTimestamp(seconds: 1_773_655_200, nanos: 500_000_000)
        #expect(ProtoTimestamp(stamp.date) == stamp)
        #expect(ProtoTimestamp().serializedBytes().isEmpty)
    }
}
