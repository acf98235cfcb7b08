import Foundation

/// Writes Swift value types for a file's messages and enums.
struct MessageEmitter {
    let schema: SchemaSet
    let names: SwiftNames

    init(schema: SchemaSet) {
        self.schema = schema
        self.names = SwiftNames(schema: schema)
    }

    func emitEnum(_ definition: EnumDef, fullName: String, into out: inout CodeWriter) throws(ProtoGenError) {
        var seen: [Int32: String] = [:]
        var cases: [(name: String, value: EnumValueDef)] = []
        var aliases: [(name: String, target: String)] = []
        for value in definition.values {
            let caseName = self.names.enumCaseName(value, in: definition)
            if let existing = seen[value.number] {
                aliases.append((caseName, existing))
            } else {
                seen[value.number] = caseName
                cases.append((caseName, value))
            }
        }
        if !aliases.isEmpty {
            let allowsAlias = definition.options.contains { option in
                if case .identifier("true") = option.value { return option.name == "allow_alias" }
                return false
            }
            guard allowsAlias else {
                throw ProtoGenError("enum '\(definition.name)' reuses a number without allow_alias", at: definition.location)
            }
        }
        out.line("/// `\(fullName)`; numbers this build does not know are kept as `.unrecognized`.")
        try out.block("package enum \(definition.name): ProtoEnum, CaseIterable") { (out: inout CodeWriter) throws(ProtoGenError) in
            for (name, _) in cases { out.line("case \(name)") }
            out.line("case unrecognized(Int32)")
            out.line()
            for (name, target) in aliases {
                out.line("package static let \(name): \(definition.name) = .\(target)")
            }
            if !aliases.isEmpty { out.line() }
            try out.block("package init(protoValue: Int32)") { (out: inout CodeWriter) throws(ProtoGenError) in
                try out.block("switch protoValue") { (out: inout CodeWriter) throws(ProtoGenError) in
                    for (name, value) in cases { out.line("case \(value.number): self = .\(name)") }
                    out.line("default: self = .unrecognized(protoValue)")
                }
            }
            out.line()
            try out.block("package var protoValue: Int32") { (out: inout CodeWriter) throws(ProtoGenError) in
                try out.block("switch self") { (out: inout CodeWriter) throws(ProtoGenError) in
                    for (name, value) in cases { out.line("case .\(name): \(value.number)") }
                    out.line("case .unrecognized(let value): value")
                }
            }
            out.line()
            out.line("/// The value's name in the schema, e.g. `\(cases[0].value.name)`; nil when unrecognized.")
            try out.block("package var protoName: String?") { (out: inout CodeWriter) throws(ProtoGenError) in
                try out.block("switch self") { (out: inout CodeWriter) throws(ProtoGenError) in
                    for (name, value) in cases { out.line("case .\(name): \"\(value.name)\"") }
                    out.line("case .unrecognized: nil")
                }
            }
            out.line()
            out.line("package static let allCases: [\(definition.name)] = [\(cases.map { "." + $0.name }.joined(separator: ", "))]")
        }
    }

    func emitMessage(_ message: MessageDef, fullName: String, into out: inout CodeWriter) throws(ProtoGenError) {
        let oneofNames = self.oneofTypeNames(message)
        out.line("/// `\(fullName)`.")
        try out.block("package struct \(message.name): ProtoMessage, Hashable") { (out: inout CodeWriter) throws(ProtoGenError) in
            out.line("package static let protoMessageName = \"\(fullName)\"")
            out.line()
            for field in message.fields where !self.isRealOneofMember(field, message) {
                let name = self.names.propertyName(field)
                if self.needsBox(field, in: fullName) {
                    // The type contains this message: keep it on the heap so the struct has a finite size.
                    let type = self.names.valueType(field.resolvedType!)
                    out.line("private var _\(name.trimmingCharacters(in: ["`"])): ProtoBox<\(type)>? = nil")
                    out.line("package var \(name): \(type)? {")
                    out.line("    get { self._\(name.trimmingCharacters(in: ["`"]))?.value }")
                    out.line("    set { self._\(name.trimmingCharacters(in: ["`"])) = newValue.map { ProtoBox($0) } }")
                    out.line("}")
                } else {
                    out.line("package var \(name): \(self.propertyType(field)) = \(self.propertyDefault(field))")
                }
            }
            for (index, oneof) in message.oneofs.enumerated() where !oneof.isSynthetic {
                out.line("package var \(Naming.swiftIdentifier(Naming.lowerCamel(oneof.name))): \(oneofNames[index]!)? = nil")
            }
            out.line("package var unknownFields = UnknownFields()")
            out.line()
            out.line("package init() {}")
            if message.isMapEntry, let key = message.fields.first, let value = message.fields.last {
                out.line()
                try out.block("package init(key: \(self.propertyType(key)), value: \(self.propertyType(value)))") { out in
                    out.line("self.key = key")
                    out.line("self.value = value")
                }
            }
            for (index, oneof) in message.oneofs.enumerated() where !oneof.isSynthetic {
                out.line()
                out.line("/// The `\(oneof.name)` oneof: at most one of these is set.")
                let members = message.fields.filter { $0.oneofIndex == index }
                let isRecursive = members.contains { self.reaches($0.resolvedType!, target: fullName, visited: []) }
                let keyword = isRecursive ? "indirect enum" : "enum"
                try out.block("package \(keyword) \(oneofNames[index]!): Sendable, Hashable") { out in
                    for field in message.fields where field.oneofIndex == index {
                        out.line("case \(self.names.propertyName(field))(\(self.names.valueType(field.resolvedType!)))")
                    }
                }
            }
            for nested in message.nestedEnums {
                out.line()
                try self.emitEnum(nested, fullName: fullName + "." + nested.name, into: &out)
            }
            for nested in message.nestedMessages {
                out.line()
                try self.emitMessage(nested, fullName: fullName + "." + nested.name, into: &out)
            }
            out.line()
            try self.emitDecode(message, oneofNames: oneofNames, into: &out)
            out.line()
            try self.emitEncode(message, into: &out)
            out.line()
            out.line("/// Field names for the JSON mapping.")
            out.line("package static let jsonFields: [JSONFieldName] = [")
            for field in message.fields {
                out.line("    JSONFieldName(number: \(field.number), protoName: \"\(field.name)\", jsonName: \"\(field.jsonName)\"),")
            }
            out.line("]")
        }
    }

    // MARK: Properties

    /// A singular message field whose type (transitively) contains `messageName`.
    private func needsBox(_ field: FieldDef, in messageName: String) -> Bool {
        guard field.label != .repeated, field.oneofIndex == nil, case .message = field.resolvedType! else { return false }
        return self.reaches(field.resolvedType!, target: messageName, visited: [])
    }

    /// Whether a value of `type` can contain a `target` message inline (not through an array or map).
    private func reaches(_ type: FieldType, target: String, visited: Set<String>) -> Bool {
        guard case .message(let name) = type else { return false }
        if name == target { return true }
        guard !visited.contains(name), let message = self.schema.messages[name] else { return false }
        let visited = visited.union([name])
        return message.fields.contains { field in
            field.label != .repeated && self.reaches(field.resolvedType!, target: target, visited: visited)
        }
    }

    private func isRealOneofMember(_ field: FieldDef, _ message: MessageDef) -> Bool {
        guard let index = field.oneofIndex else { return false }
        return !message.oneofs[index].isSynthetic
    }

    private func oneofTypeNames(_ message: MessageDef) -> [Int: String] {
        var result: [Int: String] = [:]
        let taken = Set(message.nestedMessages.map(\.name) + message.nestedEnums.map(\.name))
        for (index, oneof) in message.oneofs.enumerated() where !oneof.isSynthetic {
            let name = Naming.upperCamel(oneof.name)
            result[index] = taken.contains(name) ? name + "Oneof" : name
        }
        return result
    }

    private func mapTypes(_ field: FieldDef) -> (key: FieldDef, value: FieldDef)? {
        guard field.mapEntryName != nil, case .message(let entryName) = field.resolvedType,
            let entry = self.schema.messages[entryName], entry.fields.count == 2
        else { return nil }
        return (entry.fields[0], entry.fields[1])
    }

    private func propertyType(_ field: FieldDef) -> String {
        let type = field.resolvedType!
        if let (key, value) = self.mapTypes(field) {
            return "[\(self.names.valueType(key.resolvedType!)): \(self.names.valueType(value.resolvedType!))]"
        }
        switch field.label {
        case .repeated: return "[\(self.names.valueType(type))]"
        case .optional, .required: return "\(self.names.valueType(type))?"
        case .singular:
            if case .message = type { return "\(self.names.valueType(type))?" }
            return self.names.valueType(type)
        }
    }

    private func propertyDefault(_ field: FieldDef) -> String {
        if field.mapEntryName != nil { return "[:]" }
        switch field.label {
        case .repeated: return "[]"
        case .optional, .required: return "nil"
        case .singular:
            if case .message = field.resolvedType! { return "nil" }
            return self.names.defaultValue(field.resolvedType!)
        }
    }

    // MARK: Decoding

    private func emitDecode(_ message: MessageDef, oneofNames: [Int: String], into out: inout CodeWriter)
        throws(ProtoGenError)
    {
        out.line("package mutating func decodeField(")
        out.line("    _ tag: FieldTag,")
        out.line("    from reader: inout ProtoReader")
        try out.block(") throws(ProtoDecodingError) -> Bool") { (out: inout CodeWriter) throws(ProtoGenError) in
            guard !message.fields.isEmpty else {
                out.line("false")
                return
            }
            try out.block("switch tag.fieldNumber") { (out: inout CodeWriter) throws(ProtoGenError) in
                for field in message.fields.sorted(by: { $0.number < $1.number }) {
                    out.line("case \(field.number):")
                    try self.emitDecodeCase(field, message: message, oneofNames: oneofNames, into: &out)
                }
                out.line("default:")
                out.line("    return false")
            }
            out.line("return true")
        }
    }

    private func emitDecodeCase(_ field: FieldDef, message: MessageDef, oneofNames: [Int: String], into out: inout CodeWriter)
        throws(ProtoGenError)
    {
        let type = field.resolvedType!
        let property = "self." + self.names.propertyName(field)
        let wire = self.names.wireType(type)
        var body = CodeWriter()
        if let (_, value) = self.mapTypes(field) {
            body.line("guard tag.wireType == .lengthDelimited else { return false }")
            body.line("let entry = \(self.names.readExpression(type))")
            if case .message(let valueType) = value.resolvedType! {
                body.line("\(property)[entry.key] = entry.value ?? \(self.names.typeName(valueType))()")
            } else {
                body.line("\(property)[entry.key] = entry.value")
            }
        } else if field.label == .repeated {
            if self.isPackableType(type) {
                body.line("switch tag.wireType {")
                body.line("case \(wire):")
                body.line("    \(property).append(\(self.names.readExpression(type)))")
                body.line("case .lengthDelimited:")
                body.line("    try reader.readPacked(into: &\(property)) { (reader: inout ProtoReader) throws(ProtoDecodingError) in")
                body.line("        \(self.names.readExpression(type))")
                body.line("    }")
                body.line("default:")
                body.line("    return false")
                body.line("}")
            } else {
                body.line("guard tag.wireType == \(wire) else { return false }")
                body.line("\(property).append(\(self.names.readExpression(type)))")
            }
        } else if let index = field.oneofIndex, !message.oneofs[index].isSynthetic {
            let oneofProperty = "self." + Naming.swiftIdentifier(Naming.lowerCamel(message.oneofs[index].name))
            let caseName = self.names.propertyName(field)
            body.line("guard tag.wireType == \(wire) else { return false }")
            if case .message(let name) = type {
                // A message in a oneof merges with an earlier occurrence of the same field.
                body.line("var value: \(self.names.typeName(name))? = nil")
                body.line("if case .\(caseName)(let existing)? = \(oneofProperty) { value = existing }")
                body.line("try reader.mergeMessage(into: &value)")
                body.line("\(oneofProperty) = value.map { .\(caseName)($0) }")
            } else {
                body.line("\(oneofProperty) = .\(caseName)(\(self.names.readExpression(type)))")
            }
        } else if case .message = type {
            body.line("guard tag.wireType == .lengthDelimited else { return false }")
            body.line("try reader.mergeMessage(into: &\(property))")
        } else {
            body.line("guard tag.wireType == \(wire) else { return false }")
            body.line("\(property) = \(self.names.readExpression(type))")
        }
        for line in body.text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            out.line("    " + line)
        }
    }

    private func isPackableType(_ type: FieldType) -> Bool {
        switch type {
        case .scalar(let scalar): scalar.isPackable
        case .enumeration: true
        case .message: false
        }
    }

    // MARK: Encoding

    private func emitEncode(_ message: MessageDef, into out: inout CodeWriter) throws(ProtoGenError) {
        try out.block("package func encode(to writer: inout ProtoWriter)") { (out: inout CodeWriter) throws(ProtoGenError) in
            for field in message.fields.sorted(by: { $0.number < $1.number }) {
                self.emitEncodeField(field, message: message, into: &out)
            }
            out.line("writer.writeRaw(self.unknownFields.bytes)")
        }
    }

    private func emitEncodeField(_ field: FieldDef, message: MessageDef, into out: inout CodeWriter) {
        let type = field.resolvedType!
        let property = "self." + self.names.propertyName(field)
        if message.isMapEntry {
            // Map entries always carry both key and value (what protoc-generated code writes).
            if case .message(let name) = type {
                out.line(self.names.writeStatement(type, number: field.number, value: "\(property) ?? \(self.names.typeName(name))()"))
            } else {
                out.line(self.names.writeStatement(type, number: field.number, value: property))
            }
            return
        }
        if let (key, _) = self.mapTypes(field), case .message(let entryName) = type {
            let order: String
            switch key.resolvedType! {
            case .scalar(.string): order = "{ $0.utf8.lexicographicallyPrecedes($1.utf8) }"
            case .scalar(.bool): order = "{ !$0 && $1 }"
            default: order = "(<)"
            }
            out.line("for key in \(property).keys.sorted(by: \(order)) {")
            out.line("    writer.writeMessage(\(field.number), \(self.names.typeName(entryName))(key: key, value: \(property)[key]!))")
            out.line("}")
            return
        }
        if field.label == .repeated {
            if self.names.isPacked(field) {
                out.line("writer.writePacked(\(field.number), \(property)) { \(self.names.packedElementWriter(type)) }")
            } else {
                out.line("for value in \(property) { \(self.names.writeStatement(type, number: field.number, value: "value")) }")
            }
            return
        }
        if let index = field.oneofIndex, !message.oneofs[index].isSynthetic {
            let oneofProperty = "self." + Naming.swiftIdentifier(Naming.lowerCamel(message.oneofs[index].name))
            out.line(
                "if case .\(self.names.propertyName(field))(let value)? = \(oneofProperty) { "
                    + self.names.writeStatement(type, number: field.number, value: "value") + " }"
            )
            return
        }
        if field.label == .optional || field.label == .required {
            out.line("if let value = \(property) { \(self.names.writeStatement(type, number: field.number, value: "value")) }")
            return
        }
        if case .message = type {
            out.line("if let value = \(property) { \(self.names.writeStatement(type, number: field.number, value: "value")) }")
            return
        }
        out.line(
            "if \(self.names.isSetCondition(type, value: property)) { "
                + self.names.writeStatement(type, number: field.number, value: property) + " }"
        )
    }
}
