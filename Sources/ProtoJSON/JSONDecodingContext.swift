import Foundation
import ProtoWire
import ServiceErrors

/// Collects every problem found while decoding JSON into a message, so one reply can name all
/// the offending fields.
package struct JSONDecodingContext: Sendable {
    package private(set) var violations: [FieldViolation] = []
    /// Query parameters arrive as text: accept "true"/"false" for booleans (numbers and enum
    /// names are strings in JSON already).
    package var valuesAreText: Bool

    package init(valuesAreText: Bool = false) {
        self.valuesAreText = valuesAreText
    }

    package mutating func reject(_ path: String, _ description: String) {
        self.violations.append(FieldViolation(field: path, description: description))
    }

    /// `invalidArgument` naming every violation, or nil when there were none.
    package var error: ServiceError? {
        guard !self.violations.isEmpty else { return nil }
        let summary = self.violations.map { "\($0.field): \($0.description)" }.joined(separator: "; ")
        return ServiceError(.invalidArgument, summary, fieldViolations: self.violations)
    }
}

/// Typed readers for JSON values; each records a violation and returns the default on a bad value.
/// `null` means "the default" for every type (protobuf JSON mapping).
package enum JSONField {
    package static func string(_ value: JSONValue, _ path: String, _ context: inout JSONDecodingContext) -> String {
        switch value {
        case .string(let text): return text
        case .null: return ""
        default:
            context.reject(path, "must be a string, not \(value.kindDescription)")
            return ""
        }
    }

    package static func bool(_ value: JSONValue, _ path: String, _ context: inout JSONDecodingContext) -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .null: return false
        case .string("true") where context.valuesAreText: return true
        case .string("false") where context.valuesAreText: return false
        default:
            context.reject(path, "must be true or false, not \(value.kindDescription)")
            return false
        }
    }

    /// Integers: a JSON number without fraction or exponent, or the same digits in a string.
    package static func integer<Value: FixedWidthInteger & Sendable>(
        _ value: JSONValue,
        _ path: String,
        _ context: inout JSONDecodingContext
    ) -> Value {
        let text: String
        switch value {
        case .number(let number): text = number
        case .string(let string): text = string
        case .null: return 0
        default:
            context.reject(path, "must be an integer, not \(value.kindDescription)")
            return 0
        }
        if let parsed = Value(text, radix: 10), !text.hasPrefix("+") {
            return parsed
        }
        // `5.0` and `5e0` are integers too (JSON Schema agrees), within a double's exact range.
        if case .number = value, let number = Double(text), number == number.rounded(), abs(number) <= 9_007_199_254_740_992 {
            if let exact = Value(exactly: number) { return exact }
            context.reject(path, "must be between \(Value.min) and \(Value.max)")
            return 0
        }
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        let isIntegerText = !digits.isEmpty && digits.allSatisfy { ("0"..."9").contains($0) }
        if isIntegerText {
            context.reject(path, "must be between \(Value.min) and \(Value.max)")
        } else {
            context.reject(path, "must be an integer")
        }
        return 0
    }

    package static func double(_ value: JSONValue, _ path: String, _ context: inout JSONDecodingContext) -> Double {
        switch value {
        case .number(let text):
            guard let number = Double(text), number.isFinite else {
                context.reject(path, "is out of range for a double")
                return 0
            }
            return number
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        case .string(let text):
            if let number = Double(text), number.isFinite, text.first.map({ $0 == "-" || $0.isNumber }) == true {
                return number
            }
            context.reject(path, "must be a number")
            return 0
        case .null: return 0
        default:
            context.reject(path, "must be a number, not \(value.kindDescription)")
            return 0
        }
    }

    package static func float(_ value: JSONValue, _ path: String, _ context: inout JSONDecodingContext) -> Float {
        let number = self.double(value, path, &context)
        // Out of range once rounded to a float: `3.4028235e+38`, the shortest text of the
        // largest float (what protojson writes), is a little above it as a double.
        if number.isFinite, Float(number).isInfinite {
            context.reject(path, "is out of range for a float")
            return 0
        }
        return Float(number)
    }

    /// Standard or URL-safe base64, padded or not.
    package static func bytes(_ value: JSONValue, _ path: String, _ context: inout JSONDecodingContext) -> [UInt8] {
        switch value {
        case .string(let text):
            if let bytes = Base64.decode(text.utf8) { return bytes }
            context.reject(path, "must be base64")
            return []
        case .null: return []
        default:
            context.reject(path, "must be a base64 string, not \(value.kindDescription)")
            return []
        }
    }

    package static func timestamp(_ value: JSONValue, _ path: String, _ context: inout JSONDecodingContext)
        -> ProtoTimestamp?
    {
        switch value {
        case .string(let text):
            if let timestamp = RFC3339.parse(text) { return timestamp }
            context.reject(path, "must be an RFC 3339 timestamp such as 2026-03-16T10:00:00Z")
            return nil
        case .null: return nil
        default:
            context.reject(path, "must be an RFC 3339 timestamp string, not \(value.kindDescription)")
            return nil
        }
    }

    package static func enumeration<Value: ProtoJSONEnum>(
        _ value: JSONValue,
        _ path: String,
        _ context: inout JSONDecodingContext
    ) -> Value {
        switch value {
        case .string(let name):
            if let known = Value(jsonName: name) { return known }
            context.reject(path, "must be one of \(Value.jsonNames.joined(separator: ", "))")
        case .number:
            let number: Int32 = self.integer(value, path, &context)
            return Value(protoValue: number)
        case .null:
            break
        default:
            context.reject(path, "must be one of \(Value.jsonNames.joined(separator: ", ")), not \(value.kindDescription)")
        }
        return Value(protoValue: 0)
    }

    package static func message<Value: ProtoJSONMessage>(
        _ value: JSONValue,
        _ path: String,
        _ context: inout JSONDecodingContext
    ) -> Value? {
        switch value {
        case .object(let members): return Value(jsonMembers: members, path: path, context: &context)
        case .null: return nil
        default:
            context.reject(path, "must be an object, not \(value.kindDescription)")
            return nil
        }
    }

    /// A repeated field: each element read by `element` with its index in the path.
    package static func array<Element>(
        _ value: JSONValue,
        _ path: String,
        _ context: inout JSONDecodingContext,
        _ element: (JSONValue, String, inout JSONDecodingContext) -> Element
    ) -> [Element] {
        switch value {
        case .array(let values):
            return values.enumerated().map { index, item in element(item, "\(path)[\(index)]", &context) }
        case .null: return []
        default:
            context.reject(path, "must be an array, not \(value.kindDescription)")
            return []
        }
    }

    /// A map field: object member names are the keys (integers and booleans as their text).
    package static func map<Key: Hashable, Element>(
        _ value: JSONValue,
        _ path: String,
        _ context: inout JSONDecodingContext,
        key: (String) -> Key?,
        _ element: (JSONValue, String, inout JSONDecodingContext) -> Element
    ) -> [Key: Element] {
        switch value {
        case .object(let members):
            var result: [Key: Element] = [:]
            for member in members {
                let memberPath = "\(path)[\(member.key)]"
                guard let parsed = key(member.key) else {
                    context.reject(memberPath, "is not a valid map key")
                    continue
                }
                result[parsed] = element(member.value, memberPath, &context)
            }
            return result
        case .null: return [:]
        default:
            context.reject(path, "must be an object, not \(value.kindDescription)")
            return [:]
        }
    }

    /// Map keys that are booleans.
    package static func boolKey(_ text: String) -> Bool? {
        switch text {
        case "true": true
        case "false": false
        default: nil
        }
    }
}
