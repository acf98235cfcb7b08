/// Why a byte sequence is not a valid encoding of the message being decoded.
package struct ProtoDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, independent of position.
    package enum Kind: Sendable, Equatable {
        case truncated
        case malformedVarint
        case invalidWireType
        case invalidFieldNumber
        case lengthOutOfBounds
        case invalidUTF8
        case nestingTooDeep
        case unmatchedGroup
    }

    package var kind: Kind
    /// Byte offset into the outermost buffer where the problem was found.
    package var offset: Int
    /// The field being decoded, when known (e.g. `"session_id"`).
    package var field: String?

    package init(_ kind: Kind, at offset: Int, field: String? = nil) {
        self.kind = kind
        self.offset = offset
        self.field = field
    }

    package var description: String {
        let what: String
        switch self.kind {
        case .truncated: what = "message is truncated"
        case .malformedVarint: what = "varint is longer than 10 bytes"
        case .invalidWireType: what = "invalid wire type"
        case .invalidFieldNumber: what = "invalid field number"
        case .lengthOutOfBounds: what = "length runs past the end of the message"
        case .invalidUTF8: what = "string is not valid UTF-8"
        case .nestingTooDeep: what = "messages are nested too deeply"
        case .unmatchedGroup: what = "group is not terminated correctly"
        }
        if let field = self.field {
            return "\(what) in field '\(field)' at byte \(self.offset)"
        }
        return "\(what) at byte \(self.offset)"
    }
}
