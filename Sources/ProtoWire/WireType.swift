/// The protobuf wire types (protobuf encoding spec, "Message Structure").
package enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// One field key: the field number and how its value is encoded.
package struct FieldTag: Sendable, Equatable {
    package var fieldNumber: Int
    package var wireType: WireType

    package init(fieldNumber: Int, wireType: WireType) {
        self.fieldNumber = fieldNumber
        self.wireType = wireType
    }

    /// The largest field number protobuf allows (2^29 - 1).
    package static let maxFieldNumber = 536_870_911
}
