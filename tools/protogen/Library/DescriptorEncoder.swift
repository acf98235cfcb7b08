import ProtoWire

/// Writes a file's `google.protobuf.FileDescriptorProto`, field for field as protoc's
/// `--descriptor_set_out` does (without source info), for server reflection.
struct DescriptorEncoder {
    let schema: SchemaSet

    func encode(_ file: ProtoFile) throws(ProtoGenError) -> [UInt8] {
        let options = OptionEncoder(schema: self.schema)
        var writer = ProtoWriter(reservingCapacity: 1024)
        writer.writeString(1, file.path)
        if !file.package.isEmpty { writer.writeString(2, file.package) }
        for dependency in file.imports { writer.writeString(3, dependency.path) }
        for message in file.messages {
            let bytes = try self.message(message, scope: file.package, options: options)
            writer.writeBytes(4, bytes)
        }
        for definition in file.enums {
            writer.writeBytes(5, try self.enumeration(definition, scope: file.package, options: options))
        }
        for service in file.services {
            writer.writeBytes(6, try self.service(service, scope: file.package, options: options))
        }
        for extensionField in file.extensions {
            writer.writeBytes(7, try self.field(extensionField, scope: file.package, options: options))
        }
        if let encoded = try options.encode(file.options, kind: .file, scope: file.package) {
            writer.writeBytes(8, encoded)
        }
        for (index, dependency) in file.imports.enumerated() where dependency.isPublic {
            writer.writeInt32(10, Int32(index))
        }
        for (index, dependency) in file.imports.enumerated() where dependency.isWeak {
            writer.writeInt32(11, Int32(index))
        }
        if file.syntax != "proto2" { writer.writeString(12, file.syntax) }  // protoc leaves proto2 unnamed
        return writer.bytes
    }

    private func message(_ message: MessageDef, scope: String, options: OptionEncoder) throws(ProtoGenError)
        -> [UInt8]
    {
        let name = SchemaSet.qualify(scope, message.name)
        var writer = ProtoWriter()
        writer.writeString(1, message.name)
        for field in message.fields {
            writer.writeBytes(2, try self.field(field, scope: name, options: options))
        }
        for nested in message.nestedMessages {
            writer.writeBytes(3, try self.message(nested, scope: name, options: options))
        }
        for nested in message.nestedEnums {
            writer.writeBytes(4, try self.enumeration(nested, scope: name, options: options))
        }
        for range in message.extensionRanges {
            var rangeWriter = ProtoWriter()
            rangeWriter.writeInt32(1, Int32(range.lowerBound))
            rangeWriter.writeInt32(2, Int32(range.upperBound + 1))  // end-exclusive, like reserved ranges
            writer.writeBytes(5, rangeWriter.bytes)
        }
        for extensionField in message.extensions {
            writer.writeBytes(6, try self.field(extensionField, scope: name, options: options))
        }
        let mapEntry: [(Int, [UInt8])] = message.isMapEntry ? [(7, [0x38, 0x01])] : []
        if let encoded = try options.encode(message.options, kind: .message, scope: name, extra: mapEntry) {
            writer.writeBytes(7, encoded)
        }
        for oneof in message.oneofs {
            var oneofWriter = ProtoWriter()
            oneofWriter.writeString(1, oneof.name)
            if let encoded = try options.encode(oneof.options, kind: .oneof, scope: name) {
                oneofWriter.writeBytes(2, encoded)
            }
            writer.writeBytes(8, oneofWriter.bytes)
        }
        for range in message.reservedRanges {
            var rangeWriter = ProtoWriter()
            rangeWriter.writeInt32(1, Int32(range.lowerBound))
            rangeWriter.writeInt32(2, Int32(range.upperBound + 1))  // DescriptorProto ranges are end-exclusive
            writer.writeBytes(9, rangeWriter.bytes)
        }
        for reserved in message.reservedNames { writer.writeString(10, reserved) }
        return writer.bytes
    }

    private func field(_ field: FieldDef, scope: String, options: OptionEncoder) throws(ProtoGenError) -> [UInt8] {
        var writer = ProtoWriter()
        writer.writeString(1, field.name)
        if let extendee = field.resolvedExtendee { writer.writeString(2, "." + extendee) }
        writer.writeInt32(3, Int32(field.number))
        writer.writeInt32(4, field.label == .repeated ? 3 : field.label == .required ? 2 : 1)
        switch field.resolvedType {
        case .scalar(let scalar):
            writer.writeInt32(5, Int32(scalar.descriptorType))
        case .message(let name):
            writer.writeInt32(5, 11)
            writer.writeString(6, "." + name)
        case .enumeration(let name):
            writer.writeInt32(5, 14)
            writer.writeString(6, "." + name)
        case nil:
            throw ProtoGenError("unresolved type for '\(field.name)'", at: field.location)
        }
        if let defaultValue = field.defaultValue { writer.writeString(7, defaultValue) }
        if let encoded = try options.encode(field.options, kind: .field, scope: scope) {
            writer.writeBytes(8, encoded)
        }
        if let oneofIndex = field.oneofIndex { writer.writeInt32(9, Int32(oneofIndex)) }
        writer.writeString(10, field.jsonName)
        if field.isProto3Optional { writer.writeBool(17, true) }
        return writer.bytes
    }

    private func enumeration(_ definition: EnumDef, scope: String, options: OptionEncoder) throws(ProtoGenError)
        -> [UInt8]
    {
        var writer = ProtoWriter()
        writer.writeString(1, definition.name)
        for value in definition.values {
            var valueWriter = ProtoWriter()
            valueWriter.writeString(1, value.name)
            valueWriter.writeInt32(2, value.number)
            if let encoded = try options.encode(value.options, kind: .enumValue, scope: scope) {
                valueWriter.writeBytes(3, encoded)
            }
            writer.writeBytes(2, valueWriter.bytes)
        }
        if let encoded = try options.encode(definition.options, kind: .enumeration, scope: scope) {
            writer.writeBytes(3, encoded)
        }
        for range in definition.reservedRanges {
            var rangeWriter = ProtoWriter()
            rangeWriter.writeInt32(1, Int32(range.lowerBound))
            rangeWriter.writeInt32(2, Int32(range.upperBound))  // EnumReservedRange is end-inclusive
            writer.writeBytes(4, rangeWriter.bytes)
        }
        for reserved in definition.reservedNames { writer.writeString(5, reserved) }
        return writer.bytes
    }

    private func service(_ service: ServiceDef, scope: String, options: OptionEncoder) throws(ProtoGenError)
        -> [UInt8]
    {
        var writer = ProtoWriter()
        writer.writeString(1, service.name)
        for method in service.methods {
            var methodWriter = ProtoWriter()
            methodWriter.writeString(1, method.name)
            methodWriter.writeString(2, "." + (method.resolvedInput ?? method.inputType))
            methodWriter.writeString(3, "." + (method.resolvedOutput ?? method.outputType))
            if let encoded = try options.encode(method.options, kind: .method, scope: scope) {
                methodWriter.writeBytes(4, encoded)
            }
            if method.clientStreaming { methodWriter.writeBool(5, true) }
            if method.serverStreaming { methodWriter.writeBool(6, true) }
            writer.writeBytes(2, methodWriter.bytes)
        }
        if let encoded = try options.encode(service.options, kind: .service, scope: scope) {
            writer.writeBytes(3, encoded)
        }
        return writer.bytes
    }
}
