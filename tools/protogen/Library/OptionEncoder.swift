import ProtoWire

/// Encodes option statements into the bytes of a `google.protobuf.*Options` message, as protoc
/// does when it writes a FileDescriptorProto: known fields in number order, then extensions.
struct OptionEncoder {
    /// The options message kinds and the built-in options we support on each (descriptor.proto).
    enum Kind: String {
        case file = "google.protobuf.FileOptions"
        case message = "google.protobuf.MessageOptions"
        case field = "google.protobuf.FieldOptions"
        case oneof = "google.protobuf.OneofOptions"
        case enumeration = "google.protobuf.EnumOptions"
        case enumValue = "google.protobuf.EnumValueOptions"
        case service = "google.protobuf.ServiceOptions"
        case method = "google.protobuf.MethodOptions"

        /// Built-in option name → (field number, type).
        var builtins: [String: (Int, ScalarType)] {
            switch self {
            case .file:
                [
                    "java_package": (1, .string), "java_outer_classname": (8, .string),
                    "java_multiple_files": (10, .bool), "go_package": (11, .string), "deprecated": (23, .bool),
                    "cc_enable_arenas": (31, .bool), "objc_class_prefix": (36, .string),
                    "csharp_namespace": (37, .string), "swift_prefix": (39, .string), "php_namespace": (41, .string),
                    "ruby_package": (45, .string),
                ]
            case .message: ["deprecated": (3, .bool)]
            case .field: ["packed": (2, .bool), "deprecated": (3, .bool)]
            case .oneof: [:]
            case .enumeration: ["allow_alias": (2, .bool), "deprecated": (3, .bool)]
            case .enumValue: ["deprecated": (1, .bool)]
            case .service: ["deprecated": (33, .bool)]
            case .method: ["deprecated": (33, .bool)]
            }
        }
    }

    let schema: SchemaSet

    /// The serialized options message, or nil when there are no options to write.
    /// `json_name` is not an option in descriptors (it has its own field) and is skipped.
    func encode(_ options: [OptionAssignment], kind: Kind, scope: String, extra: [(Int, [UInt8])] = [])
        throws(ProtoGenError) -> [UInt8]?
    {
        var fields: [(number: Int, bytes: [UInt8])] = extra.map { ($0.0, $0.1) }
        for option in options {
            if !option.isExtension && option.name == "json_name" && kind == .field { continue }
            if option.isExtension {
                guard let name = self.schema.resolveExtension(option.name, scope: scope),
                    let extensionField = self.schema.extensions[name]
                else {
                    throw ProtoGenError("unknown option '(\(option.name))'", at: option.location)
                }
                guard extensionField.resolvedExtendee == kind.rawValue else {
                    throw ProtoGenError(
                        "option '(\(option.name))' extends \(extensionField.resolvedExtendee ?? "?"), not \(kind.rawValue)",
                        at: option.location
                    )
                }
                var writer = ProtoWriter()
                try self.write(option.value, as: extensionField, into: &writer, at: option.location)
                fields.append((extensionField.number, writer.bytes))
            } else if let (number, type) = kind.builtins[option.name] {
                var writer = ProtoWriter()
                try self.writeScalar(option.value, type: type, number: number, into: &writer, at: option.location)
                fields.append((number, writer.bytes))
            } else if let field = self.schema.messages[kind.rawValue]?.fields.first(where: { $0.name == option.name }) {
                // Any other field of the options message, when the schema imports descriptor.proto
                // (enum-valued ones such as `idempotency_level = NO_SIDE_EFFECTS` among them).
                var writer = ProtoWriter()
                try self.write(option.value, as: field, into: &writer, at: option.location)
                fields.append((field.number, writer.bytes))
            } else {
                throw ProtoGenError("unknown option '\(option.name)'", at: option.location)
            }
        }
        guard !fields.isEmpty else { return nil }
        var writer = ProtoWriter()
        for field in fields.sorted(by: { $0.number < $1.number }) {
            writer.writeRaw(field.bytes)
        }
        return writer.bytes
    }

    /// Writes `value` as field `field` (tag included).
    private func write(_ value: OptionValue, as field: FieldDef, into writer: inout ProtoWriter, at location: SourceLocation)
        throws(ProtoGenError)
    {
        if case .list(let values) = value {
            guard field.label == .repeated else {
                throw ProtoGenError("'\(field.name)' is not repeated", at: location)
            }
            for element in values { try self.write(element, as: field, into: &writer, at: location) }
            return
        }
        switch field.resolvedType {
        case .scalar(let scalar):
            try self.writeScalar(value, type: scalar, number: field.number, into: &writer, at: location)
        case .enumeration(let enumName):
            guard case .identifier(let name) = value,
                let enumValue = self.schema.enums[enumName]?.values.first(where: { $0.name == name })
            else {
                throw ProtoGenError("'\(field.name)' needs a value of enum \(enumName)", at: location)
            }
            writer.writeInt32(field.number, enumValue.number)
        case .message(let messageName):
            guard case .aggregate(let entries) = value, let message = self.schema.messages[messageName] else {
                throw ProtoGenError("'\(field.name)' needs a { … } value of \(messageName)", at: location)
            }
            var inner: [(number: Int, bytes: [UInt8])] = []
            for entry in entries {
                guard let innerField = message.fields.first(where: { $0.name == entry.name }) else {
                    throw ProtoGenError("\(messageName) has no field '\(entry.name)'", at: entry.location)
                }
                var innerWriter = ProtoWriter()
                try self.write(entry.value, as: innerField, into: &innerWriter, at: entry.location)
                inner.append((innerField.number, innerWriter.bytes))
            }
            writer.writeTag(field.number, .lengthDelimited)
            writer.writeLengthPrefixed { nested in
                for entry in inner.sorted(by: { $0.number < $1.number }) { nested.writeRaw(entry.bytes) }
            }
        case nil:
            throw ProtoGenError("unresolved type for '\(field.name)'", at: location)
        }
    }

    private func writeScalar(
        _ value: OptionValue,
        type: ScalarType,
        number: Int,
        into writer: inout ProtoWriter,
        at location: SourceLocation
    ) throws(ProtoGenError) {
        func integer() throws(ProtoGenError) -> Int {
            guard case .number(let text) = value else {
                throw ProtoGenError("expected an integer", at: location)
            }
            let negative = text.hasPrefix("-")
            guard let magnitude = Parser.integerValue(negative ? String(text.dropFirst()) : text) else {
                throw ProtoGenError("expected an integer, found \(text)", at: location)
            }
            return negative ? -magnitude : magnitude
        }
        func floating() throws(ProtoGenError) -> Double {
            switch value {
            case .number(let text):
                if let double = Double(text) { return double }
                if let int = Parser.integerValue(text) { return Double(int) }
            case .identifier(let name):
                switch name {
                case "inf": return .infinity
                case "-inf": return -.infinity
                case "nan": return .nan
                default: break
                }
            default: break
            }
            throw ProtoGenError("expected a number", at: location)
        }
        func ranged<T: FixedWidthInteger>(_: T.Type) throws(ProtoGenError) -> T {
            let value = try integer()
            guard let exact = T(exactly: value) else {
                throw ProtoGenError("\(value) is out of range for \(type.rawValue)", at: location)
            }
            return exact
        }
        switch type {
        case .string, .bytes:
            guard case .string(let string) = value else { throw ProtoGenError("expected a string", at: location) }
            writer.writeString(number, string)
        case .bool:
            guard case .identifier(let name) = value, name == "true" || name == "false" else {
                throw ProtoGenError("expected true or false", at: location)
            }
            writer.writeBool(number, name == "true")
        case .int32: writer.writeInt32(number, try ranged(Int32.self))
        case .int64: writer.writeInt64(number, try ranged(Int64.self))
        case .uint32: writer.writeUInt32(number, try ranged(UInt32.self))
        case .uint64: writer.writeUInt64(number, try ranged(UInt64.self))
        case .sint32: writer.writeSInt32(number, try ranged(Int32.self))
        case .sint64: writer.writeSInt64(number, try ranged(Int64.self))
        case .fixed32: writer.writeFixed32(number, try ranged(UInt32.self))
        case .fixed64: writer.writeFixed64(number, try ranged(UInt64.self))
        case .sfixed32: writer.writeSFixed32(number, try ranged(Int32.self))
        case .sfixed64: writer.writeSFixed64(number, try ranged(Int64.self))
        case .float: writer.writeFloat(number, Float(try floating()))
        case .double: writer.writeDouble(number, try floating())
        }
    }
}
