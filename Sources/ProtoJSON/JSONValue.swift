/// A parsed JSON value. Numbers keep their text, so integer fields can be range-checked exactly
/// (a `Double` cannot tell 9007199254740993 from 9007199254740992).
package indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number as written, e.g. `-12`, `1.5e3`.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order; duplicates are kept so decoders can reject them.
    case object([JSONMember])

    /// What a client sent, for error messages: "a string", "an array", ….
    package var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

package struct JSONMember: Sendable, Equatable {
    package var key: String
    package var value: JSONValue

    package init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}
