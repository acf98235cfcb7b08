/// Writes the JSON mappings of a file's messages and enums (conformances to `ProtoJSONMessage`
/// and `ProtoJSONEnum`): the REST API's mapping and protobuf's canonical one, for modules the
/// REST gateway and the Connect protocol serve.
struct JSONEmitter {
    static let timestampType = "google.protobuf.Timestamp"

    let schema: SchemaSet
    let names: SwiftNames

    init(schema: SchemaSet) {
        self.schema = schema
        self.names = SwiftNames(schema: schema)
    }

    /// The JSON name of an enum value: without the enum's `SCREAMING_SNAKE_` prefix, lower-cased.
    static func jsonName(of value: EnumValueDef, in definition: EnumDef) -> String {
        let prefix = Naming.screamingSnake(definition.name) + "_"
        let strip = definition.values.allSatisfy { $0.name.hasPrefix(prefix) && $0.name.count > prefix.count }
        return (strip ? String(value.name.dropFirst(prefix.count)) : value.name).lowercased()
    }

    func emitEnum(_ definition: EnumDef, fullName: String, into out: inout CodeWriter) throws(ProtoGenError) {
        var seen: Set<Int32> = []
        var primary: [(caseName: String, value: EnumValueDef)] = []
        var byNumber: [Int32: String] = [:]
        for value in definition.values where seen.insert(value.number).inserted {
            let caseName = self.names.enumCaseName(value, in: definition)
            primary.append((caseName, value))
            byNumber[value.number] = caseName
        }
        try out.block("extension \(self.names.typeName(fullName)): ProtoJSONEnum") { (out: inout CodeWriter) throws(ProtoGenError) in
            try out.block("package var jsonName: String?") { (out: inout CodeWriter) throws(ProtoGenError) in
                try out.block("switch self") { out in
                    for (caseName, value) in primary {
                        out.line("case .\(caseName): \"\(Self.jsonName(of: value, in: definition))\"")
                    }
                    out.line("case .unrecognized: nil")
                }
            }
            out.line()
            try out.block("package init?(jsonName: String)") { (out: inout CodeWriter) throws(ProtoGenError) in
                try out.block("switch jsonName") { out in
                    for value in definition.values {
                        let short = Self.jsonName(of: value, in: definition)
                        let labels = short == value.name ? "\"\(short)\"" : "\"\(short)\", \"\(value.name)\""
                        out.line("case \(labels): self = .\(byNumber[value.number]!)")
                    }
                    out.line("default: return nil")
                }
            }
            out.line()
            let names = primary.map { "\"\(Self.jsonName(of: $0.value, in: definition))\"" }.joined(separator: ", ")
            out.line("package static let jsonNames: [String] = [\(names)]")
        }
    }

    /// A byte a JSON name may hold as it is, inside a Swift and a JSON string literal alike.
    static func isLiteralNameByte(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte != 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
    }

    func emitMessage(_ message: MessageDef, fullName: String, into out: inout CodeWriter) throws(ProtoGenError) {
        for nested in message.nestedEnums {
            try self.emitEnum(nested, fullName: fullName + "." + nested.name, into: &out)
            out.line()
        }
        for nested in message.nestedMessages where !nested.isMapEntry {
            try self.emitMessage(nested, fullName: fullName + "." + nested.name, into: &out)
            out.line()
        }
        let fields = message.fields.sorted { $0.number < $1.number }
        // The names go out as literals, copied without escaping (`JSONWriter.key(StaticString)`).
        for field in fields where !field.jsonName.utf8.allSatisfy(Self.isLiteralNameByte) {
            throw ProtoGenError(
                "json_name '\(field.jsonName)' of '\(field.name)' holds a quote, a backslash or a control character",
                at: field.location)
        }
        try out.block("extension \(self.names.typeName(fullName)): ProtoJSONMessage") { (out: inout CodeWriter) throws(ProtoGenError) in
            try out.block("package func writeJSONMembers(to writer: inout JSONWriter, excluding excluded: Int)") { out in
                for field in fields {
                    out.line("if excluded != \(field.number) {")
                    out.line("    writer.key(\"\(field.jsonName)\")")
                    out.line("    " + self.writeField(field, message: message))
                    out.line("}")
                }
            }
            out.line()
            try out.block("package func writeJSONValue(ofField number: Int, to writer: inout JSONWriter)") { (out: inout CodeWriter) throws(ProtoGenError) in
                try out.block("switch number") { out in
                    for field in fields { out.line("case \(field.number): " + self.writeField(field, message: message)) }
                    out.line("default: writer.null()")
                }
            }
            out.line()
            try out.block("package func writeCanonicalJSONMembers(to writer: inout JSONWriter)") { out in
                for field in fields {
                    let (condition, statement) = self.canonicalMember(field, message: message)
                    out.line("if \(condition) {")
                    out.line("    writer.key(\"\(field.jsonName)\")")
                    out.line("    " + statement)
                    out.line("}")
                }
            }
            out.line()
            out.line("package mutating func decodeJSONMember(")
            out.line("    _ name: String,")
            out.line("    _ value: JSONValue,")
            out.line("    path: String,")
            out.line("    context: inout JSONDecodingContext")
            try out.block(") -> Bool") { (out: inout CodeWriter) throws(ProtoGenError) in
                guard !fields.isEmpty else {
                    out.line("false")
                    return
                }
                try out.block("switch name") { out in
                    for field in fields {
                        let labels = field.jsonName == field.name ? "\"\(field.name)\"" : "\"\(field.jsonName)\", \"\(field.name)\""
                        out.line("case \(labels):")
                        out.line("    " + self.readField(field, message: message))
                    }
                    out.line("default:")
                    out.line("    return false")
                }
                out.line("return true")
            }
            out.line()
            try out.block("package func stringValue(ofField protoName: String) -> String?") { (out: inout CodeWriter) throws(ProtoGenError) in
                try out.block("switch protoName") { out in
                    for field in fields
                    where field.resolvedType == .scalar(.string) && field.label == .singular && field.oneofIndex == nil {
                        out.line("case \"\(field.name)\": self.\(self.names.propertyName(field))")
                    }
                    out.line("default: nil")
                }
            }
        }
    }

    // MARK: Writing

    private func isTimestamp(_ type: FieldType) -> Bool { type == .message(Self.timestampType) }

    /// A statement writing one non-optional value of `type`.
    private func writeValue(_ type: FieldType, _ value: String) -> String {
        switch type {
        case .scalar(let scalar):
            switch scalar {
            case .string: "writer.string(\(value))"
            case .bool: "writer.bool(\(value))"
            case .bytes: "writer.bytes(\(value))"
            case .double: "writer.double(\(value))"
            case .float: "writer.double(Double(\(value)))"
            default: "writer.integer(\(value))"
            }
        case .enumeration: "writer.enumeration(\(value))"
        case .message where self.isTimestamp(type): "writer.timestamp(\(value))"
        case .message: "\(value).writeJSON(to: &writer)"
        }
    }

    private func mapTypes(_ field: FieldDef) -> (key: FieldDef, value: FieldDef)? {
        guard field.mapEntryName != nil, case .message(let entryName) = field.resolvedType,
            let entry = self.schema.messages[entryName], entry.fields.count == 2
        else { return nil }
        return (entry.fields[0], entry.fields[1])
    }

    /// The order map keys are written in (deterministic output): strings by UTF-8 bytes.
    private func keyOrder(_ key: FieldDef) -> String {
        switch key.resolvedType! {
        case .scalar(.string): "{ $0.utf8.lexicographicallyPrecedes($1.utf8) }"
        case .scalar(.bool): "{ !$0 && $1 }"
        default: "(<)"
        }
    }

    /// A map field as an object, keys in a fixed order, each value written by `write` (either mapping's).
    private func mapStatement(_ property: String, key: FieldDef, value: FieldDef, write: (FieldType, String) -> String) -> String {
        "writer.beginObject(); for key in \(property).keys.sorted(by: \(self.keyOrder(key))) { writer.key(String(key)); "
            + write(value.resolvedType!, "\(property)[key]!") + " }; writer.endObject()"
    }

    /// A repeated field as an array, each element written by `write`.
    private func arrayStatement(_ property: String, _ type: FieldType, write: (FieldType, String) -> String) -> String {
        "writer.beginArray(); for element in \(property) { \(write(type, "element")) }; writer.endArray()"
    }

    private func writeField(_ field: FieldDef, message: MessageDef) -> String {
        let type = field.resolvedType!
        let property = "self." + self.names.propertyName(field)
        if let (key, value) = self.mapTypes(field) {
            return self.mapStatement(property, key: key, value: value, write: self.writeValue)
        }
        if field.label == .repeated {
            return self.arrayStatement(property, type, write: self.writeValue)
        }
        if let index = field.oneofIndex, !message.oneofs[index].isSynthetic {
            let oneof = "self." + Naming.swiftIdentifier(Naming.lowerCamel(message.oneofs[index].name))
            return "if case .\(self.names.propertyName(field))(let value)? = \(oneof) { \(self.writeValue(type, "value")) } else { writer.null() }"
        }
        if self.isTimestamp(type) { return "writer.timestamp(\(property))" }
        if case .message = type { return "writer.message(\(property))" }
        if field.label == .optional || field.label == .required {
            return "if let value = \(property) { \(self.writeValue(type, "value")) } else { writer.null() }"
        }
        return self.writeValue(type, property)
    }

    // MARK: Writing, canonical mapping

    /// A statement writing one non-optional value of `type` in protobuf's canonical mapping.
    private func writeCanonicalValue(_ type: FieldType, _ value: String) -> String {
        switch type {
        case .scalar(let scalar):
            switch scalar {
            case .float: "writer.canonicalFloat(\(value))"
            case .double: "writer.canonicalDouble(\(value))"
            case .int64, .uint64, .sint64, .fixed64, .sfixed64: "writer.quotedInteger(\(value))"
            default: self.writeValue(type, value)
            }
        case .enumeration: "writer.canonicalEnumeration(\(value))"
        case .message where self.isTimestamp(type): "writer.canonicalTimestamp(\(value))"
        case .message: "\(value).writeCanonicalJSON(to: &writer)"
        }
    }

    /// When a field is written (the condition of an `if`) and the statement writing its value.
    ///
    /// Fields with explicit presence (messages, proto3 `optional`, oneof members) are written
    /// whenever set, even to a default; the others only when they differ from their default
    /// (the proto3 rule the binary encoder follows, `-0.0` included).
    private func canonicalMember(_ field: FieldDef, message: MessageDef) -> (condition: String, statement: String) {
        let type = field.resolvedType!
        let property = "self." + self.names.propertyName(field)
        if let (key, value) = self.mapTypes(field) {
            return ("!\(property).isEmpty", self.mapStatement(property, key: key, value: value, write: self.writeCanonicalValue))
        }
        if field.label == .repeated {
            return ("!\(property).isEmpty", self.arrayStatement(property, type, write: self.writeCanonicalValue))
        }
        if let index = field.oneofIndex, !message.oneofs[index].isSynthetic {
            let oneof = "self." + Naming.swiftIdentifier(Naming.lowerCamel(message.oneofs[index].name))
            let condition = "case .\(self.names.propertyName(field))(let value)? = \(oneof)"
            return (condition, self.writeCanonicalValue(type, "value"))
        }
        switch (type, field.label) {
        case (.message, _), (_, .optional), (_, .required):
            return ("let value = \(property)", self.writeCanonicalValue(type, "value"))
        default:
            return (self.names.isSetCondition(type, value: property), self.writeCanonicalValue(type, property))
        }
    }

    // MARK: Reading

    /// An expression reading a non-optional value of `type` from `value` at `path`.
    private func readValue(_ type: FieldType) -> String {
        switch type {
        case .scalar(let scalar):
            switch scalar {
            case .string: return "JSONField.string(value, path, &context)"
            case .bool: return "JSONField.bool(value, path, &context)"
            case .bytes: return "JSONField.bytes(value, path, &context)"
            case .double: return "JSONField.double(value, path, &context)"
            case .float: return "JSONField.float(value, path, &context)"
            default: return "JSONField.integer(value, path, &context) as \(self.names.scalarType(scalar))"
            }
        case .enumeration(let name):
            return "JSONField.enumeration(value, path, &context) as \(self.names.typeName(name))"
        case .message where self.isTimestamp(type):
            return "JSONField.timestamp(value, path, &context) ?? ProtoTimestamp()"
        case .message(let name):
            let swiftType = self.names.typeName(name)
            return "JSONField.message(value, path, &context) as \(swiftType)? ?? \(swiftType)()"
        }
    }

    private func elementClosure(_ type: FieldType) -> String {
        "{ (value: JSONValue, path: String, context: inout JSONDecodingContext) -> \(self.names.valueType(type)) in \(self.readValue(type)) }"
    }

    private func readField(_ field: FieldDef, message: MessageDef) -> String {
        let type = field.resolvedType!
        let property = "self." + self.names.propertyName(field)
        if let (key, value) = self.mapTypes(field) {
            let keyParser: String
            switch key.resolvedType! {
            case .scalar(.string): keyParser = "{ $0 }"
            case .scalar(.bool): keyParser = "JSONField.boolKey"
            case .scalar(let scalar): keyParser = "{ \(self.names.scalarType(scalar))($0) }"
            default: keyParser = "{ _ in nil }"
            }
            return "\(property) = JSONField.map(value, path, &context, key: \(keyParser), \(self.elementClosure(value.resolvedType!)))"
        }
        if field.label == .repeated {
            return "\(property) = JSONField.array(value, path, &context, \(self.elementClosure(type)))"
        }
        if let index = field.oneofIndex, !message.oneofs[index].isSynthetic {
            let oneof = "self." + Naming.swiftIdentifier(Naming.lowerCamel(message.oneofs[index].name))
            return "if value != .null { \(oneof) = .\(self.names.propertyName(field))(\(self.readValue(type))) }"
        }
        if self.isTimestamp(type) { return "\(property) = JSONField.timestamp(value, path, &context)" }
        if case .message(let name) = type {
            return "\(property) = JSONField.message(value, path, &context) as \(self.names.typeName(name))?"
        }
        if field.label == .optional || field.label == .required {
            return "\(property) = value == .null ? nil : \(self.readValue(type))"
        }
        return "\(property) = \(self.readValue(type))"
    }
}
