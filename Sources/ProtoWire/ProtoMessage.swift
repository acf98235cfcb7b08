/// A protobuf message with binary encoding; generated types conform to it.
package protocol ProtoMessage: Sendable, Equatable {
    /// The message's fully qualified protobuf name, e.g. `sessions.v1.Session`.
    static var protoMessageName: String { get }

    /// Fields this message did not recognise when decoded.
    var unknownFields: UnknownFields { get set }

    /// The empty message: every field at its default.
    init()

    /// Decodes one known field whose tag was just read; returns false for a field number (or a
    /// wire type) it does not know, which the caller then keeps as an unknown field.
    mutating func decodeField(_ tag: FieldTag, from reader: inout ProtoReader) throws(ProtoDecodingError) -> Bool

    /// Appends the message's fields in field-number order, then its unknown fields.
    func encode(to writer: inout ProtoWriter)
}

extension ProtoMessage {
    /// Decodes a whole message from the reader's current limit.
    package init(from reader: inout ProtoReader) throws(ProtoDecodingError) {
        self.init()
        try self.merge(from: &reader)
    }

    /// Merges fields from the reader into this message (protobuf merge semantics).
    package mutating func merge(from reader: inout ProtoReader) throws(ProtoDecodingError) {
        while let tag = try reader.nextTag() {
            if try !self.decodeField(tag, from: &reader) {
                try reader.skipField(tag, into: &self.unknownFields)
            }
        }
    }

    /// Decodes a message from its serialized bytes.
    package init(serializedBytes bytes: some Sequence<UInt8>) throws(ProtoDecodingError) {
        try self.init(serializedBytes: Array(bytes))
    }

    /// Decodes a message from its serialized bytes, read in place.
    package init(serializedBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        // Merged into `self` in place: a `Self?` to carry the result out of the closure made the
        // runtime look up `Optional<Self>`'s metadata and copy through value witnesses on every
        // call (about 2 % of a gRPC GetSession; tools/bench/RESULTS.md).
        self.init()
        var failure: ProtoDecodingError?
        bytes.withUnsafeBytes { raw in
            var reader = ProtoReader(raw)
            do throws(ProtoDecodingError) {
                try self.merge(from: &reader)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Decodes a message from borrowed memory.
    package init(serializedBuffer buffer: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        var reader = ProtoReader(buffer)
        try self.init(from: &reader)
    }

    /// The message's binary encoding.
    package func serializedBytes() -> [UInt8] {
        var writer = ProtoWriter(reservingCapacity: 256)  // most replies fit without growing
        self.encode(to: &writer)
        return writer.bytes
    }
}

/// A protobuf enum: a known case or an unrecognised number that round-trips unchanged.
package protocol ProtoEnum: Sendable, Hashable {
    init(protoValue: Int32)
    var protoValue: Int32 { get }
}

/// Heap storage for a message field whose type contains itself (directly or through other
/// messages); generated code hides it behind a computed property.
package final class ProtoBox<Value: Hashable & Sendable>: Hashable, Sendable {
    package let value: Value

    package init(_ value: Value) {
        self.value = value
    }

    package static func == (lhs: ProtoBox, rhs: ProtoBox) -> Bool { lhs.value == rhs.value }

    package func hash(into hasher: inout Hasher) { hasher.combine(self.value) }
}
