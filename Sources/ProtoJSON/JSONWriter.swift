import Foundation
import ProtoWire
import ServiceErrors

/// Builds a compact JSON document into bytes, inserting commas itself.
///
/// Generated message code calls it field by field; nothing is built as an intermediate tree.
package struct JSONWriter: Sendable {
    package internal(set) var bytes: [UInt8] = []
    /// Whether the next value or key in the current container needs a comma before it.
    /// (Internal, not private: the canonical mapping's writers in `JSONWriter+Canonical.swift` use it.)
    var needsComma = false

    package init(capacity: Int = 256) {
        self.bytes.reserveCapacity(capacity)
    }

    mutating func separate() {
        if self.needsComma { self.bytes.append(UInt8(ascii: ",")) }
    }

    package mutating func beginObject() {
        self.separate()
        self.bytes.append(UInt8(ascii: "{"))
        self.needsComma = false
    }

    package mutating func endObject() {
        self.bytes.append(UInt8(ascii: "}"))
        self.needsComma = true
    }

    package mutating func beginArray() {
        self.separate()
        self.bytes.append(UInt8(ascii: "["))
        self.needsComma = false
    }

    package mutating func endArray() {
        self.bytes.append(UInt8(ascii: "]"))
        self.needsComma = true
    }

    /// An object member's name; the value follows.
    package mutating func key(_ name: StaticString) {
        self.separate()
        self.bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(UInt8(ascii: ":"))
        self.needsComma = false
    }

    /// A name known only at run time (the literal names of generated code take `StaticString`:
    /// nothing to check for escapes).
    @_disfavoredOverload
    package mutating func key(_ name: String) {
        self.separate()
        self.appendQuoted(name)
        self.bytes.append(UInt8(ascii: ":"))
        self.needsComma = false
    }

    package mutating func string(_ value: String) {
        self.separate()
        self.appendQuoted(value)
        self.needsComma = true
    }

    package mutating func bool(_ value: Bool) {
        self.literal(value ? "true" : "false")
    }

    package mutating func null() {
        self.literal("null")
    }

    /// Integers are JSON numbers, 64-bit ones included (the API documents numbers, not strings).
    package mutating func integer(_ value: some BinaryInteger) { self.writeInteger(value) }

    // The protobuf integer types by name: generic code in this module is not specialized for
    // callers in others, and every message with a number calls these.
    package mutating func integer(_ value: Int) { self.writeInteger(value) }
    package mutating func integer(_ value: Int64) { self.writeInteger(value) }
    package mutating func integer(_ value: Int32) { self.writeInteger(value) }
    package mutating func integer(_ value: UInt64) { self.writeInteger(value) }
    package mutating func integer(_ value: UInt32) { self.writeInteger(value) }

    private mutating func writeInteger(_ value: some BinaryInteger) {
        self.separate()
        self.appendDigits(value)
        self.needsComma = true
    }

    /// Appends an integer's decimal digits (with a leading `-`), nothing else.
    mutating func appendDigits(_ value: some BinaryInteger) {
        // Digits straight into the output, lowest first, then reversed in place.
        let magnitude = value.magnitude
        if value < 0 { self.bytes.append(UInt8(ascii: "-")) }
        let start = self.bytes.count
        var rest = UInt64(truncatingIfNeeded: magnitude)
        repeat {
            self.bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        self.bytes[start...].reverse()
    }

    /// Finite numbers as numbers; NaN and the infinities as the protobuf JSON strings.
    package mutating func double(_ value: Double) {
        if value.isNaN {
            self.string("NaN")
        } else if value.isInfinite {
            self.string(value < 0 ? "-Infinity" : "Infinity")
        } else if value == 0 && value.sign == .minus {
            self.literal("-0")
        } else if value == value.rounded(), abs(value) < 1e15 {
            self.raw(String(Int64(value)))
        } else {
            self.raw(String(value))
        }
    }

    package mutating func bytes(_ value: [UInt8]) {
        self.string(Data(value).base64EncodedString())
    }

    /// RFC 3339 in UTC with whole seconds, e.g. `2026-03-16T10:00:00Z`; null when unset.
    package mutating func timestamp(_ value: ProtoTimestamp?) {
        guard let value else { return self.null() }
        self.separate()
        self.bytes.append(UInt8(ascii: "\""))
        RFC3339.append(seconds: value.seconds, to: &self.bytes)
        self.bytes.append(UInt8(ascii: "\""))
        self.needsComma = true
    }

    package mutating func enumeration<Value: ProtoJSONEnum>(_ value: Value) {
        if let name = value.jsonName { self.string(name) } else { self.integer(value.protoValue) }
    }

    package mutating func message(_ value: (some ProtoJSONMessage)?) {
        guard let value else { return self.null() }
        value.writeJSON(to: &self)
    }

    /// Text that is already valid JSON (a literal, or a document written elsewhere).
    package mutating func raw(_ json: String) {
        self.separate()
        self.bytes.append(contentsOf: json.utf8)
        self.needsComma = true
    }

    /// A fixed piece of JSON (`true`, `null`…), copied from the binary's constant: a `String`
    /// literal's UTF-8 view is appended byte by byte (a session's JSON has a dozen of these).
    mutating func literal(_ json: StaticString) {
        self.separate()
        json.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
        self.needsComma = true
    }

    package mutating func raw(_ json: [UInt8]) {
        self.separate()
        self.bytes.append(contentsOf: json)
        self.needsComma = true
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private mutating func appendQuoted(_ text: String) {
        self.bytes.append(UInt8(ascii: "\""))
        // Most strings need no escaping: copy them whole.
        var text = text
        let copied = text.withUTF8 { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F {
                return false
            }
            self.bytes.append(contentsOf: utf8)
            return true
        }
        if copied {
            self.bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20, 0x7F:
                self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                self.bytes.append(Self.hexDigits[Int(byte >> 4)])
                self.bytes.append(Self.hexDigits[Int(byte & 0xF)])
            default: self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONWriter {
    /// `[{"field": …, "description": …}, …]`: how both the REST envelope and Connect's error
    /// details show the offending fields.
    package mutating func fieldViolations(_ violations: [FieldViolation]) {
        self.beginArray()
        for violation in violations {
            self.beginObject()
            self.key("field")
            self.string(violation.field)
            self.key("description")
            self.string(violation.description)
            self.endObject()
        }
        self.endArray()
    }
}
