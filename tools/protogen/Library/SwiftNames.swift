/// How schema names appear in generated Swift.
struct SwiftNames {
    let schema: SchemaSet

    /// The Swift type for a fully qualified message or enum name: the package is dropped and
    /// nested types stay nested (`sessions.v1.Outer.Inner` → `Outer.Inner`).
    func typeName(_ fullName: String) -> String {
        if let builtin = BuiltinFiles.swiftTypes[fullName] { return builtin }
        let package = self.schema.fileOfType[fullName].flatMap { self.schema.file($0)?.package } ?? ""
        return package.isEmpty ? fullName : String(fullName.dropFirst(package.count + 1))
    }

    func propertyName(_ field: FieldDef) -> String {
        Naming.swiftIdentifier(Naming.lowerCamel(field.name))
    }

    func scalarType(_ scalar: ScalarType) -> String {
        switch scalar {
        case .double: "Double"
        case .float: "Float"
        case .int64, .sint64, .sfixed64: "Int64"
        case .uint64, .fixed64: "UInt64"
        case .int32, .sint32, .sfixed32: "Int32"
        case .uint32, .fixed32: "UInt32"
        case .bool: "Bool"
        case .string: "String"
        case .bytes: "[UInt8]"
        }
    }

    /// The Swift type of one value of the field (the element type for repeated fields).
    func valueType(_ type: FieldType) -> String {
        switch type {
        case .scalar(let scalar): self.scalarType(scalar)
        case .message(let name), .enumeration(let name): self.typeName(name)
        }
    }

    /// The Swift case for an enum's zero value, its proto3 default.
    func enumDefault(_ fullName: String) -> String {
        guard let definition = self.schema.enums[fullName], let zero = definition.values.first else { return ".init()" }
        return "." + self.enumCaseName(zero, in: definition)
    }

    func enumCaseName(_ value: EnumValueDef, in definition: EnumDef) -> String {
        Naming.swiftIdentifier(
            Naming.enumCaseName(value.name, enumName: definition.name, allValues: definition.values.map(\.name))
        )
    }

    func defaultValue(_ type: FieldType) -> String {
        switch type {
        case .scalar(let scalar):
            switch scalar {
            case .bool: "false"
            case .string: "\"\""
            case .bytes: "[]"
            default: "0"
            }
        case .enumeration(let name): self.enumDefault(name)
        case .message(let name): "\(self.typeName(name))()"
        }
    }

    // MARK: Wire access

    func wireType(_ type: FieldType) -> String {
        switch type {
        case .scalar(let scalar):
            switch scalar {
            case .double, .fixed64, .sfixed64: ".fixed64"
            case .float, .fixed32, .sfixed32: ".fixed32"
            case .string, .bytes: ".lengthDelimited"
            default: ".varint"
            }
        case .enumeration: ".varint"
        case .message: ".lengthDelimited"
        }
    }

    /// An expression reading one value of `type` from `reader`.
    func readExpression(_ type: FieldType, reader: String = "reader") -> String {
        switch type {
        case .scalar(let scalar):
            let method =
                switch scalar {
                case .double: "readDouble"
                case .float: "readFloat"
                case .int64: "readInt64"
                case .uint64: "readUInt64"
                case .int32: "readInt32"
                case .fixed64: "readFixed64"
                case .fixed32: "readFixed32"
                case .bool: "readBool"
                case .string: "readString"
                case .bytes: "readBytes"
                case .uint32: "readUInt32"
                case .sfixed32: "readSFixed32"
                case .sfixed64: "readSFixed64"
                case .sint32: "readSInt32"
                case .sint64: "readSInt64"
                }
            return "try \(reader).\(method)()"
        case .enumeration(let name):
            return "\(self.typeName(name))(protoValue: try \(reader).readInt32())"
        case .message(let name):
            return "try \(reader).readMessage(\(self.typeName(name)).self)"
        }
    }

    /// A statement writing `value` as field `number` with its tag.
    func writeStatement(_ type: FieldType, number: Int, value: String) -> String {
        switch type {
        case .scalar(let scalar):
            let method =
                switch scalar {
                case .double: "writeDouble"
                case .float: "writeFloat"
                case .int64: "writeInt64"
                case .uint64: "writeUInt64"
                case .int32: "writeInt32"
                case .fixed64: "writeFixed64"
                case .fixed32: "writeFixed32"
                case .bool: "writeBool"
                case .string: "writeString"
                case .bytes: "writeBytes"
                case .uint32: "writeUInt32"
                case .sfixed32: "writeSFixed32"
                case .sfixed64: "writeSFixed64"
                case .sint32: "writeSInt32"
                case .sint64: "writeSInt64"
                }
            return "writer.\(method)(\(number), \(value))"
        case .enumeration:
            return "writer.writeEnum(\(number), \(value).protoValue)"
        case .message:
            return "writer.writeMessage(\(number), \(value))"
        }
    }

    /// A closure body writing one packed element `$1` into writer `$0`, without a tag.
    func packedElementWriter(_ type: FieldType) -> String {
        switch type {
        case .scalar(let scalar):
            switch scalar {
            case .int32: "$0.writeVarint(UInt64(bitPattern: Int64($1)))"
            case .int64: "$0.writeVarint(UInt64(bitPattern: $1))"
            case .uint32: "$0.writeVarint(UInt64($1))"
            case .uint64: "$0.writeVarint($1)"
            case .sint32: "$0.writeVarint(UInt64(ZigZag.encode32($1)))"
            case .sint64: "$0.writeVarint(ZigZag.encode64($1))"
            case .bool: "$0.writeVarint($1 ? 1 : 0)"
            case .fixed32: "$0.writeFixed32($1)"
            case .sfixed32: "$0.writeFixed32(UInt32(bitPattern: $1))"
            case .float: "$0.writeFixed32($1.bitPattern)"
            case .fixed64: "$0.writeFixed64($1)"
            case .sfixed64: "$0.writeFixed64(UInt64(bitPattern: $1))"
            case .double: "$0.writeFixed64($1.bitPattern)"
            case .string, .bytes: "preconditionFailure(\"not packable\")"
            }
        case .enumeration: "$0.writeVarint(UInt64(bitPattern: Int64($1.protoValue)))"
        case .message: "preconditionFailure(\"not packable\")"
        }
    }

    /// A condition that is true when a proto3 implicit-presence field differs from its default.
    func isSetCondition(_ type: FieldType, value: String) -> String {
        switch type {
        case .scalar(let scalar):
            switch scalar {
            case .bool: value
            case .string, .bytes: "!\(value).isEmpty"
            // -0.0 is not the default: protobuf compares bit patterns.
            case .float, .double: "\(value).bitPattern != 0"
            default: "\(value) != 0"
            }
        case .enumeration: "\(value).protoValue != 0"
        case .message: "true"
        }
    }

    func isPacked(_ field: FieldDef) -> Bool {
        guard field.label == .repeated, field.mapEntryName == nil else { return false }
        switch field.resolvedType {
        case .scalar(let scalar) where !scalar.isPackable:
            return false
        case .scalar, .enumeration:
            if let option = field.options.first(where: { $0.name == "packed" && !$0.isExtension }),
                case .identifier(let value) = option.value
            {
                return value == "true"
            }
            return true
        default:
            return false
        }
    }
}
