/// The parsed (and, after `Resolver`, resolved) contents of one .proto file.
struct ProtoFile: Sendable {
    var path: String
    var syntax: String = "proto3"
    var syntaxLocation: SourceLocation?
    var package: String = ""
    var imports: [Import] = []
    var options: [OptionAssignment] = []
    var messages: [MessageDef] = []
    var enums: [EnumDef] = []
    var services: [ServiceDef] = []
    var extensions: [FieldDef] = []

    struct Import: Sendable {
        var path: String
        var isPublic: Bool
        var isWeak: Bool
    }
}

/// `option name = value;` or `[name = value]`.
struct OptionAssignment: Sendable {
    /// `packed`, or the extension path inside parentheses for custom options: `(sessions.api.http)`.
    var name: String
    var isExtension: Bool
    var value: OptionValue
    var location: SourceLocation
}

/// An option's value: a constant or a text-format aggregate `{ key: value … }`.
indirect enum OptionValue: Sendable {
    case string(String)
    /// An integer or float literal as written, with its sign.
    case number(String)
    /// `true`, `false`, `inf`, `nan` or an enum value name.
    case identifier(String)
    case aggregate([(name: String, value: OptionValue, location: SourceLocation)])
    case list([OptionValue])
}

/// The protobuf scalar types (protobuf language spec, "Fields").
enum ScalarType: String, Sendable, CaseIterable {
    case double, float, int64, uint64, int32, fixed64, fixed32, bool, string, bytes, uint32, sfixed32, sfixed64
    case sint32, sint64

    /// `FieldDescriptorProto.Type` number.
    var descriptorType: Int {
        switch self {
        case .double: 1
        case .float: 2
        case .int64: 3
        case .uint64: 4
        case .int32: 5
        case .fixed64: 6
        case .fixed32: 7
        case .bool: 8
        case .string: 9
        case .bytes: 12
        case .uint32: 13
        case .sfixed32: 15
        case .sfixed64: 16
        case .sint32: 17
        case .sint64: 18
        }
    }

    /// Repeated fields of these types are packed by default in proto3.
    var isPackable: Bool { self != .string && self != .bytes }
}

/// What a field's type resolved to.
enum FieldType: Sendable, Equatable {
    case scalar(ScalarType)
    /// Fully qualified name without the leading dot, e.g. `sessions.v1.Session`.
    case message(String)
    case enumeration(String)
}

enum FieldLabel: Sendable {
    case singular
    case optional
    case repeated
    case required
}

struct FieldDef: Sendable {
    var name: String
    var number: Int
    var label: FieldLabel
    /// The type as written: `string`, `Session`, `.google.protobuf.Timestamp`.
    var typeName: String
    var options: [OptionAssignment] = []
    /// Index into the message's `oneofs` (real or synthetic).
    var oneofIndex: Int?
    /// Set for `map<K, V>` fields: the synthesized entry message's name.
    var mapEntryName: String?
    /// For extensions: the extended message as written.
    var extendee: String?
    /// proto2 `[default = …]`, as protoc writes it into `FieldDescriptorProto.default_value`.
    var defaultValue: String?
    var location: SourceLocation
    /// Filled in by `Resolver`.
    var resolvedType: FieldType?
    var resolvedExtendee: String?

    /// protoc's JSON name: underscores removed, the letter after each one upper-cased.
    var jsonName: String {
        if let explicit = self.options.first(where: { $0.name == "json_name" && !$0.isExtension }),
            case .string(let value) = explicit.value
        {
            return value
        }
        return Naming.protocJSONName(self.name)
    }

    var isProto3Optional: Bool { self.label == .optional }
}

struct OneofDef: Sendable {
    var name: String
    /// proto3 `optional` fields each get a synthetic one-field oneof named `_field`.
    var isSynthetic: Bool
    var options: [OptionAssignment] = []
}

struct MessageDef: Sendable {
    var name: String
    var fields: [FieldDef] = []
    var oneofs: [OneofDef] = []
    /// Declared nested messages and synthesized map entries, in declaration order.
    var nestedMessages: [MessageDef] = []
    var nestedEnums: [EnumDef] = []
    var extensions: [FieldDef] = []
    var options: [OptionAssignment] = []
    var reservedRanges: [ClosedRange<Int>] = []
    var reservedNames: [String] = []
    /// proto2 `extensions 1000 to max;`.
    var extensionRanges: [ClosedRange<Int>] = []
    var isMapEntry = false
    var location: SourceLocation
}

struct EnumDef: Sendable {
    var name: String
    var values: [EnumValueDef] = []
    var options: [OptionAssignment] = []
    var reservedRanges: [ClosedRange<Int>] = []
    var reservedNames: [String] = []
    var location: SourceLocation
}

struct EnumValueDef: Sendable {
    var name: String
    var number: Int32
    var options: [OptionAssignment] = []
    var location: SourceLocation
}

struct ServiceDef: Sendable {
    var name: String
    var methods: [MethodDef] = []
    var options: [OptionAssignment] = []
    var location: SourceLocation
}

struct MethodDef: Sendable {
    var name: String
    var inputType: String
    var outputType: String
    var clientStreaming: Bool
    var serverStreaming: Bool
    var options: [OptionAssignment] = []
    var location: SourceLocation
    var resolvedInput: String?
    var resolvedOutput: String?
}
