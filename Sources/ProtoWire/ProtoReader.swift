#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads protobuf wire-format values from borrowed memory.
///
/// A reader borrows the bytes it reads: use it only inside the `withUnsafeBytes` (or equivalent)
/// scope that produced its buffer. Every read is bounds-checked against the current limit, so
/// malformed input throws `ProtoDecodingError` and never traps.
package struct ProtoReader {
    /// How deeply messages (and groups) may nest before decoding gives up.
    package static let maxDepth = 100

    private let buffer: UnsafeRawBufferPointer
    private var position: Int
    private var limit: Int
    private var depth: Int
    private var lastTagStart: Int

    package init(_ buffer: UnsafeRawBufferPointer) {
        self.buffer = buffer
        self.position = 0
        self.limit = buffer.count
        self.depth = 0
        self.lastTagStart = 0
    }

    package var isAtEnd: Bool { self.position >= self.limit }

    // MARK: Tags

    /// The next field's tag, or nil at the end of the current message.
    package mutating func nextTag() throws(ProtoDecodingError) -> FieldTag? {
        guard self.position < self.limit else { return nil }
        self.lastTagStart = self.position
        let key = try self.readVarint()
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw ProtoDecodingError(.invalidWireType, at: self.lastTagStart)
        }
        let number = key >> 3
        guard number >= 1, number <= UInt64(FieldTag.maxFieldNumber) else {
            throw ProtoDecodingError(.invalidFieldNumber, at: self.lastTagStart)
        }
        return FieldTag(fieldNumber: Int(number), wireType: wireType)
    }

    // MARK: Primitives

    package mutating func readVarint() throws(ProtoDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = self.position
        while true {
            guard self.position < self.limit else { throw ProtoDecodingError(.truncated, at: start) }
            let byte = self.buffer[self.position]
            self.position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            // The 10th byte carries bit 63; an 11th byte never belongs to a valid varint.
            guard shift < 70 else { throw ProtoDecodingError(.malformedVarint, at: start) }
        }
    }

    package mutating func readFixed32() throws(ProtoDecodingError) -> UInt32 {
        guard self.limit - self.position >= 4 else { throw ProtoDecodingError(.truncated, at: self.position) }
        var value: UInt32 = 0
        withUnsafeMutableBytes(of: &value) {
            $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: self.buffer[self.position..<self.position + 4]))
        }
        self.position += 4
        return UInt32(littleEndian: value)
    }

    package mutating func readFixed64() throws(ProtoDecodingError) -> UInt64 {
        guard self.limit - self.position >= 8 else { throw ProtoDecodingError(.truncated, at: self.position) }
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) {
            $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: self.buffer[self.position..<self.position + 8]))
        }
        self.position += 8
        return UInt64(littleEndian: value)
    }

    /// Reads a length prefix and returns the range of the bytes it covers, consuming them.
    package mutating func readLengthDelimitedRange() throws(ProtoDecodingError) -> Range<Int> {
        let start = self.position
        let length = try self.readVarint()
        guard length <= UInt64(self.limit - self.position) else {
            throw ProtoDecodingError(.lengthOutOfBounds, at: start)
        }
        let range = self.position..<(self.position + Int(length))
        self.position = range.upperBound
        return range
    }

    // MARK: Typed values

    package mutating func readInt32() throws(ProtoDecodingError) -> Int32 {
        Int32(truncatingIfNeeded: try self.readVarint())
    }

    package mutating func readInt64() throws(ProtoDecodingError) -> Int64 {
        Int64(bitPattern: try self.readVarint())
    }

    package mutating func readUInt32() throws(ProtoDecodingError) -> UInt32 {
        UInt32(truncatingIfNeeded: try self.readVarint())
    }

    package mutating func readUInt64() throws(ProtoDecodingError) -> UInt64 {
        try self.readVarint()
    }

    package mutating func readSInt32() throws(ProtoDecodingError) -> Int32 {
        ZigZag.decode32(UInt32(truncatingIfNeeded: try self.readVarint()))
    }

    package mutating func readSInt64() throws(ProtoDecodingError) -> Int64 {
        ZigZag.decode64(try self.readVarint())
    }

    package mutating func readBool() throws(ProtoDecodingError) -> Bool {
        try self.readVarint() != 0
    }

    package mutating func readSFixed32() throws(ProtoDecodingError) -> Int32 {
        Int32(bitPattern: try self.readFixed32())
    }

    package mutating func readSFixed64() throws(ProtoDecodingError) -> Int64 {
        Int64(bitPattern: try self.readFixed64())
    }

    package mutating func readFloat() throws(ProtoDecodingError) -> Float {
        Float(bitPattern: try self.readFixed32())
    }

    package mutating func readDouble() throws(ProtoDecodingError) -> Double {
        Double(bitPattern: try self.readFixed64())
    }

    package mutating func readString() throws(ProtoDecodingError) -> String {
        let start = self.position
        let range = try self.readLengthDelimitedRange()
        let bytes = UnsafeRawBufferPointer(rebasing: self.buffer[range]).bindMemory(to: UInt8.self)
        // Decoding repairs bad UTF-8 with U+FFFD; any repair shows as a difference in the bytes.
        // (Cheaper than the generic validating initializer, which resolves type metadata per call;
        // compared with memcmp, as an element-wise comparison was 0.6 % of a gRPC GetSession.)
        var string = String(decoding: bytes, as: UTF8.self)
        let same = string.withUTF8 { decoded in
            decoded.count == bytes.count
                && (bytes.isEmpty || memcmp(decoded.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
        }
        guard same else {
            throw ProtoDecodingError(.invalidUTF8, at: start)
        }
        return string
    }

    package mutating func readBytes() throws(ProtoDecodingError) -> [UInt8] {
        let range = try self.readLengthDelimitedRange()
        return [UInt8](UnsafeRawBufferPointer(rebasing: self.buffer[range]))
    }

    /// Decodes a length-delimited nested message.
    package mutating func readMessage<Message: ProtoMessage>(
        _ type: Message.Type = Message.self
    ) throws(ProtoDecodingError) -> Message {
        let range = try self.readLengthDelimitedRange()
        return try self.withNestedLimit(range) { (reader: inout ProtoReader) throws(ProtoDecodingError) in
            try Message(from: &reader)
        }
    }

    /// Merges a length-delimited nested message into `message` (protobuf's rule for a message
    /// field that appears more than once).
    package mutating func mergeMessage<Message: ProtoMessage>(
        into message: inout Message?
    ) throws(ProtoDecodingError) {
        let range = try self.readLengthDelimitedRange()
        var merged = message ?? Message()
        try self.withNestedLimit(range) { (reader: inout ProtoReader) throws(ProtoDecodingError) in
            try merged.merge(from: &reader)
        }
        message = merged
    }

    /// Reads a packed run of scalars, appending each element that `element` reads.
    package mutating func readPacked<Element>(
        into values: inout [Element],
        _ element: (inout ProtoReader) throws(ProtoDecodingError) -> Element
    ) throws(ProtoDecodingError) {
        let range = try self.readLengthDelimitedRange()
        let savedLimit = self.limit
        let savedPosition = self.position
        self.limit = range.upperBound
        self.position = range.lowerBound
        while self.position < self.limit {
            values.append(try element(&self))
        }
        self.limit = savedLimit
        self.position = savedPosition
    }

    private mutating func withNestedLimit<T>(
        _ range: Range<Int>,
        _ body: (inout ProtoReader) throws(ProtoDecodingError) -> T
    ) throws(ProtoDecodingError) -> T {
        guard self.depth < Self.maxDepth else {
            throw ProtoDecodingError(.nestingTooDeep, at: range.lowerBound)
        }
        let savedLimit = self.limit
        let savedPosition = self.position
        self.limit = range.upperBound
        self.position = range.lowerBound
        self.depth += 1
        defer {
            self.depth -= 1
            self.limit = savedLimit
            self.position = savedPosition
        }
        return try body(&self)
    }

    // MARK: Unknown fields

    /// Skips the value of the field whose tag was just read and keeps its raw bytes (tag
    /// included) in `unknown`, so that re-encoding preserves it.
    package mutating func skipField(_ tag: FieldTag, into unknown: inout UnknownFields) throws(ProtoDecodingError) {
        let start = self.lastTagStart
        try self.skipValue(tag)
        unknown.append(UnsafeRawBufferPointer(rebasing: self.buffer[start..<self.position]))
    }

    private mutating func skipValue(_ tag: FieldTag) throws(ProtoDecodingError) {
        switch tag.wireType {
        case .varint:
            _ = try self.readVarint()
        case .fixed64:
            _ = try self.readFixed64()
        case .fixed32:
            _ = try self.readFixed32()
        case .lengthDelimited:
            _ = try self.readLengthDelimitedRange()
        case .startGroup:
            guard self.depth < Self.maxDepth else {
                throw ProtoDecodingError(.nestingTooDeep, at: self.position)
            }
            self.depth += 1
            defer { self.depth -= 1 }
            while true {
                guard let inner = try self.nextTag() else {
                    throw ProtoDecodingError(.unmatchedGroup, at: self.position)
                }
                if inner.wireType == .endGroup {
                    guard inner.fieldNumber == tag.fieldNumber else {
                        throw ProtoDecodingError(.unmatchedGroup, at: self.lastTagStart)
                    }
                    return
                }
                try self.skipValue(inner)
            }
        case .endGroup:
            throw ProtoDecodingError(.unmatchedGroup, at: self.lastTagStart)
        }
    }
}

/// Fields a decoder did not recognise, kept byte for byte for re-encoding.
package struct UnknownFields: Sendable, Hashable {
    package private(set) var bytes: [UInt8] = []

    package init() {}

    package var isEmpty: Bool { self.bytes.isEmpty }

    package mutating func append(_ raw: UnsafeRawBufferPointer) {
        self.bytes.append(contentsOf: raw)
    }
}
