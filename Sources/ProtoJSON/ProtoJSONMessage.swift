import ProtoWire
import RPCCore
import ServiceErrors

/// A message with two JSON mappings; protogen generates the conformance.
///
/// The REST mapping (`writeJSONMembers`, `jsonBytes()`) is protobuf's JSON mapping with the REST
/// API's conventions: lowerCamelCase names (or `json_name`), every field present (unset messages
/// and optionals as `null`), 64-bit integers as numbers, enums as their lower-case short names
/// (`active`), and Timestamps as RFC 3339 with whole seconds.
///
/// The canonical mapping (`writeCanonicalJSONMembers`, `canonicalJSONBytes()`, in
/// `ProtoJSONMessage+Canonical.swift`) is protobuf's own ProtoJSON format, what Connect's JSON
/// codec speaks. Both read through the same lenient decoder.
package protocol ProtoJSONMessage: ProtoMessage {
    /// Every field's number, proto name and JSON name.
    static var jsonFields: [JSONFieldName] { get }

    /// Writes every field as an object member, except field number `excluded` (0 for none).
    func writeJSONMembers(to writer: inout JSONWriter, excluding excluded: Int)

    /// Writes the value of one field (the REST `data` of a route with a response body field).
    func writeJSONValue(ofField number: Int, to writer: inout JSONWriter)

    /// Writes the fields that are set as object members, in protobuf's canonical JSON mapping:
    /// implicit-presence fields at their defaults are left out, 64-bit integers are strings,
    /// enums are full value names, Timestamps carry 0, 3, 6 or 9 fraction digits.
    func writeCanonicalJSONMembers(to writer: inout JSONWriter)

    /// Decodes one object member into its field; false when `name` is not a field's JSON or
    /// proto name. Problems with the value are recorded in `context` under `path`.
    mutating func decodeJSONMember(_ name: String, _ value: JSONValue, path: String, context: inout JSONDecodingContext)
        -> Bool

    /// The value of a singular string field by proto name (e.g. to build a `Location`).
    func stringValue(ofField protoName: String) -> String?
}

extension ProtoJSONMessage {
    package func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        self.writeJSONMembers(to: &writer, excluding: 0)
        writer.endObject()
    }

    /// The message as a compact JSON document.
    package func jsonBytes() -> [UInt8] {
        var writer = JSONWriter()
        self.writeJSON(to: &writer)
        return writer.bytes
    }

    /// Decodes an object's members; unknown and repeated names are recorded in `context`.
    package init(jsonMembers members: [JSONMember], path: String, context: inout JSONDecodingContext) {
        self.init()
        // Repeats are found by looking back over the few members a request has; the hash set
        // (which allocates once used) only when there are many.
        var seen = Set<String>()
        for (index, member) in members.enumerated() {
            let memberPath = path.isEmpty ? member.key : path + "." + member.key
            let repeated = members.count > 16
                ? !seen.insert(member.key).inserted : members[..<index].contains { $0.key == member.key }
            guard !repeated else {
                context.reject(memberPath, "is given more than once")
                continue
            }
            if !self.decodeJSONMember(member.key, member.value, path: memberPath, context: &context) {
                context.reject(memberPath, "is not a field of \(Self.protoMessageName)")
            }
        }
    }

    /// Decodes a whole JSON document; throws `invalidArgument` listing every offending field.
    package init(jsonBytes bytes: [UInt8]) throws(ServiceError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw ServiceError(.invalidArgument, error.description, cause: error)
        }
        guard case .object(let members) = value else {
            throw ServiceError(.invalidArgument, "the body must be a JSON object, not \(value.kindDescription)")
        }
        var context = JSONDecodingContext()
        self.init(jsonMembers: members, path: "", context: &context)
        if let error = context.error { throw error }
    }
}

/// An enum with JSON names: in the REST mapping the value name without the enum's prefix,
/// lower-cased (`SESSION_STATUS_ACTIVE` → `active`); in the canonical mapping the full name.
package protocol ProtoJSONEnum: ProtoEnum {
    /// nil for numbers this build does not know (written as the number).
    var jsonName: String? { get }
    /// The value's name in the schema (`SESSION_STATUS_ACTIVE`), the canonical JSON name; nil for
    /// numbers this build does not know (written as the number).
    var protoName: String? { get }
    /// Accepts the short name and the full proto name.
    init?(jsonName: String)
    /// Every short name, for error messages and the OpenAPI document.
    static var jsonNames: [String] { get }
}
