/// Parses proto3 source into a `ProtoFile` (protobuf language spec, version 3).
///
/// proto2 is read too, as far as well-known files such as `google/protobuf/descriptor.proto`
/// need it (labels, `[default = …]`, extension ranges), so reflection can serve them; protogen
/// generates Swift for proto3 files only.
struct Parser {
    private var tokens: [Token]
    private var index = 0
    private let file: String
    private var isProto2 = false

    static func parse(_ source: String, path: String) throws(ProtoGenError) -> ProtoFile {
        var parser = Parser(tokens: try Lexer.tokenize(source, file: path), file: path)
        return try parser.parseFile(path: path)
    }

    private init(tokens: [Token], file: String) {
        self.tokens = tokens
        self.file = file
    }

    // MARK: Token helpers

    private var current: Token? { self.index < self.tokens.count ? self.tokens[self.index] : nil }

    private var location: SourceLocation {
        self.current?.location ?? self.tokens.last?.location ?? SourceLocation(file: self.file, line: 1, column: 1)
    }

    private func peek(_ text: String) -> Bool {
        guard let token = self.current else { return false }
        return token.kind != .string && token.text == text
    }

    private mutating func consume(_ text: String) -> Bool {
        guard self.peek(text) else { return false }
        self.index += 1
        return true
    }

    private mutating func expect(_ text: String) throws(ProtoGenError) {
        guard self.consume(text) else {
            throw ProtoGenError("expected '\(text)', found \(self.describeCurrent())", at: self.location)
        }
    }

    private func describeCurrent() -> String {
        guard let token = self.current else { return "end of file" }
        return token.kind == .string ? "string \"\(token.text)\"" : "'\(token.text)'"
    }

    private mutating func identifier() throws(ProtoGenError) -> String {
        guard let token = self.current, token.kind == .identifier else {
            throw ProtoGenError("expected an identifier, found \(self.describeCurrent())", at: self.location)
        }
        self.index += 1
        return token.text
    }

    /// `a.b.C` or `.a.b.C`.
    private mutating func fullIdentifier() throws(ProtoGenError) -> String {
        var name = self.consume(".") ? "." : ""
        name += try self.identifier()
        while self.consume(".") {
            name += "." + (try self.identifier())
        }
        return name
    }

    private mutating func stringLiteral() throws(ProtoGenError) -> String {
        guard let token = self.current, token.kind == .string else {
            throw ProtoGenError("expected a string, found \(self.describeCurrent())", at: self.location)
        }
        self.index += 1
        var value = token.text
        while let next = self.current, next.kind == .string {  // adjacent literals concatenate
            value += next.text
            self.index += 1
        }
        return value
    }

    private mutating func integer() throws(ProtoGenError) -> Int {
        let location = self.location
        let negative = self.consume("-")
        guard let token = self.current, token.kind == .integer, let value = Self.integerValue(token.text) else {
            throw ProtoGenError("expected an integer, found \(self.describeCurrent())", at: location)
        }
        self.index += 1
        return negative ? -value : value
    }

    static func integerValue(_ text: String) -> Int? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") { return Int(lower.dropFirst(2), radix: 16) }
        if lower.count > 1 && lower.hasPrefix("0") { return Int(lower.dropFirst(), radix: 8) }
        return Int(lower)
    }

    // MARK: File

    private mutating func parseFile(path: String) throws(ProtoGenError) -> ProtoFile {
        var file = ProtoFile(path: path)
        if self.consume("syntax") {
            try self.expect("=")
            let location = self.location
            file.syntaxLocation = location
            file.syntax = try self.stringLiteral()
            guard file.syntax == "proto3" || file.syntax == "proto2" else {
                throw ProtoGenError("only proto3 (and proto2 for imports) is supported, not '\(file.syntax)'", at: location)
            }
            self.isProto2 = file.syntax == "proto2"
            try self.expect(";")
        } else if self.peek("edition") {
            throw ProtoGenError("editions are not supported; use syntax = \"proto3\"", at: self.location)
        } else {
            throw ProtoGenError("a file must start with syntax = \"proto3\";", at: self.location)
        }

        while let token = self.current {
            switch token.text {
            case ";":
                self.index += 1
            case "package":
                self.index += 1
                guard file.package.isEmpty else { throw ProtoGenError("package declared twice", at: token.location) }
                file.package = try self.fullIdentifier()
                try self.expect(";")
            case "import":
                self.index += 1
                let isPublic = self.consume("public")
                let isWeak = !isPublic && self.consume("weak")
                file.imports.append(ProtoFile.Import(path: try self.stringLiteral(), isPublic: isPublic, isWeak: isWeak))
                try self.expect(";")
            case "option":
                file.options.append(try self.optionStatement())
            case "message":
                file.messages.append(try self.message())
            case "enum":
                file.enums.append(try self.enumeration())
            case "service":
                file.services.append(try self.service())
            case "extend":
                file.extensions += try self.extend()
            default:
                throw ProtoGenError("unexpected \(self.describeCurrent()) at top level", at: token.location)
            }
        }
        return file
    }

    // MARK: Options

    /// `option name = value;`
    private mutating func optionStatement() throws(ProtoGenError) -> OptionAssignment {
        try self.expect("option")
        let option = try self.optionAssignment()
        try self.expect(";")
        return option
    }

    /// `name = value` or `(extension.name) = value`.
    private mutating func optionAssignment() throws(ProtoGenError) -> OptionAssignment {
        let location = self.location
        let name: String
        let isExtension: Bool
        if self.consume("(") {
            name = try self.fullIdentifier()
            try self.expect(")")
            isExtension = true
            if self.peek(".") {
                throw ProtoGenError("options on a sub-field of an extension are not supported", at: self.location)
            }
        } else {
            name = try self.identifier()
            isExtension = false
        }
        try self.expect("=")
        return OptionAssignment(name: name, isExtension: isExtension, value: try self.constant(), location: location)
    }

    /// `[a = 1, (b) = 2]`, or nothing.
    private mutating func fieldOptions() throws(ProtoGenError) -> [OptionAssignment] {
        guard self.consume("[") else { return [] }
        var options: [OptionAssignment] = []
        repeat {
            options.append(try self.optionAssignment())
        } while self.consume(",")
        try self.expect("]")
        return options
    }

    private mutating func constant() throws(ProtoGenError) -> OptionValue {
        guard let token = self.current else { throw ProtoGenError("expected a value", at: self.location) }
        switch token.kind {
        case .string:
            return .string(try self.stringLiteral())
        case .integer, .float:
            self.index += 1
            return .number(token.text)
        case .identifier:
            self.index += 1
            return .identifier(token.text)
        case .symbol:
            if token.text == "-" || token.text == "+" {
                self.index += 1
                guard let next = self.current, next.kind != .string, next.kind != .symbol else {
                    throw ProtoGenError("expected a number after '\(token.text)'", at: token.location)
                }
                self.index += 1
                return next.kind == .identifier
                    ? .identifier((token.text == "-" ? "-" : "") + next.text)
                    : .number((token.text == "-" ? "-" : "") + next.text)
            }
            if token.text == "{" || token.text == "<" {
                return try self.aggregate()
            }
            if token.text == "[" {
                self.index += 1
                var values: [OptionValue] = []
                if !self.consume("]") {
                    repeat { values.append(try self.constant()) } while self.consume(",")
                    try self.expect("]")
                }
                return .list(values)
            }
            throw ProtoGenError("unexpected '\(token.text)' in a value", at: token.location)
        }
    }

    /// A text-format message literal: `{ name: value name { … } }`.
    private mutating func aggregate() throws(ProtoGenError) -> OptionValue {
        let close = self.consume("{") ? "}" : ">"
        if close == ">" { try self.expect("<") }
        var entries: [(name: String, value: OptionValue, location: SourceLocation)] = []
        while !self.consume(close) {
            let location = self.location
            let name = try self.identifier()
            let hasColon = self.consume(":")
            if !hasColon && !(self.peek("{") || self.peek("<")) {
                throw ProtoGenError("expected ':' after '\(name)'", at: self.location)
            }
            entries.append((name, try self.constant(), location))
            _ = self.consume(",") || self.consume(";")
        }
        return .aggregate(entries)
    }

    // MARK: Messages

    private mutating func message() throws(ProtoGenError) -> MessageDef {
        let location = self.location
        try self.expect("message")
        var message = MessageDef(name: try self.identifier(), location: location)
        try self.expect("{")
        while !self.consume("}") {
            guard let token = self.current else { throw ProtoGenError("unterminated message", at: location) }
            switch token.text {
            case ";":
                self.index += 1
            case "option":
                message.options.append(try self.optionStatement())
            case "message":
                message.nestedMessages.append(try self.message())
            case "enum":
                message.nestedEnums.append(try self.enumeration())
            case "extend":
                message.extensions += try self.extend()
            case "reserved":
                try self.reserved(ranges: &message.reservedRanges, names: &message.reservedNames)
            case "extensions":
                guard self.isProto2 else { throw ProtoGenError("extension ranges are proto2-only", at: token.location) }
                try self.ranges(keyword: "extensions", into: &message.extensionRanges)
            case "oneof":
                try self.oneof(into: &message)
            case "map" where self.index + 1 < self.tokens.count && self.tokens[self.index + 1].text == "<":
                try self.mapField(into: &message)
            default:
                message.fields.append(try self.field(in: &message))
            }
        }
        return message
    }

    /// A field; `inOneof` for a oneof's members, which have no label in proto2 either.
    private mutating func field(in message: inout MessageDef, inOneof: Bool = false) throws(ProtoGenError) -> FieldDef {
        let location = self.location
        var label = FieldLabel.singular
        if self.consume("repeated") {
            label = .repeated
        } else if self.consume("optional") {
            label = self.isProto2 ? .singular : .optional
        } else if self.isProto2 && self.consume("required") {
            label = .required
        } else if self.peek("required") {
            throw ProtoGenError("'required' is not allowed in proto3", at: location)
        } else if self.isProto2 && !inOneof {
            throw ProtoGenError("a proto2 field needs a label: optional, required or repeated", at: location)
        }
        if self.peek("group") {
            throw ProtoGenError("groups are not supported", at: location)
        }
        let typeName = try self.fullIdentifier()
        let name = try self.identifier()
        try self.expect("=")
        let number = try self.fieldNumber()
        var options = try self.fieldOptions()
        var defaultValue: String?
        if let index = options.firstIndex(where: { $0.name == "default" && !$0.isExtension }) {
            guard self.isProto2 else {
                throw ProtoGenError("explicit default values are not allowed in proto3", at: options[index].location)
            }
            defaultValue = try Self.defaultText(options.remove(at: index))
        }
        var field = FieldDef(
            name: name,
            number: number,
            label: label,
            typeName: typeName,
            options: options,
            location: location
        )
        field.defaultValue = defaultValue
        try self.expect(";")
        if label == .optional {
            // proto3 `optional`: a synthetic oneof named after the field, placed after real ones
            // (Resolver renumbers once all real oneofs are known).
            message.oneofs.append(OneofDef(name: "_" + name, isSynthetic: true))
            field.oneofIndex = message.oneofs.count - 1
        }
        return field
    }

    private mutating func fieldNumber() throws(ProtoGenError) -> Int {
        let location = self.location
        let number = try self.integer()
        guard number >= 1, number <= 536_870_911 else {
            throw ProtoGenError("field number \(number) is out of range 1...536870911", at: location)
        }
        guard !(19000...19999).contains(number) else {
            throw ProtoGenError("field numbers 19000-19999 are reserved for the protobuf implementation", at: location)
        }
        return number
    }

    private mutating func mapField(into message: inout MessageDef) throws(ProtoGenError) {
        let location = self.location
        try self.expect("map")
        try self.expect("<")
        let keyLocation = self.location
        let keyType = try self.identifier()
        let allowedKeys: Set<String> = [
            "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64",
            "bool", "string",
        ]
        guard allowedKeys.contains(keyType) else {
            throw ProtoGenError("'\(keyType)' cannot be a map key type", at: keyLocation)
        }
        try self.expect(",")
        let valueType = try self.fullIdentifier()
        try self.expect(">")
        let name = try self.identifier()
        try self.expect("=")
        let number = try self.fieldNumber()
        let options = try self.fieldOptions()
        try self.expect(";")

        let entryName = Naming.upperCamel(name) + "Entry"
        var entry = MessageDef(name: entryName, isMapEntry: true, location: location)
        entry.fields = [
            FieldDef(name: "key", number: 1, label: .singular, typeName: keyType, location: location),
            FieldDef(name: "value", number: 2, label: .singular, typeName: valueType, location: location),
        ]
        message.nestedMessages.append(entry)
        var field = FieldDef(
            name: name,
            number: number,
            label: .repeated,
            typeName: entryName,
            options: options,
            location: location
        )
        field.mapEntryName = entryName
        message.fields.append(field)
    }

    private mutating func oneof(into message: inout MessageDef) throws(ProtoGenError) {
        let location = self.location
        try self.expect("oneof")
        var oneof = OneofDef(name: try self.identifier(), isSynthetic: false)
        let oneofIndex = message.oneofs.count
        try self.expect("{")
        var fields: [FieldDef] = []
        while !self.consume("}") {
            guard self.current != nil else { throw ProtoGenError("unterminated oneof", at: location) }
            if self.consume(";") { continue }
            if self.peek("option") {
                oneof.options.append(try self.optionStatement())
                continue
            }
            if self.peek("repeated") || self.peek("optional") || self.peek("map") {
                throw ProtoGenError("oneof fields cannot be repeated, optional or maps", at: self.location)
            }
            var field = try self.field(in: &message, inOneof: true)
            field.oneofIndex = oneofIndex
            fields.append(field)
        }
        guard !fields.isEmpty else { throw ProtoGenError("oneof '\(oneof.name)' has no fields", at: location) }
        message.oneofs.append(oneof)
        message.fields += fields
    }

    private mutating func reserved(ranges: inout [ClosedRange<Int>], names: inout [String]) throws(ProtoGenError) {
        if let next = self.tokens.dropFirst(self.index + 1).first, next.kind == .string {
            try self.expect("reserved")
            repeat { names.append(try self.stringLiteral()) } while self.consume(",")
            try self.expect(";")
        } else {
            try self.ranges(keyword: "reserved", into: &ranges)
        }
    }

    /// `reserved 4, 9 to 11;` or `extensions 1000 to max;`.
    private mutating func ranges(keyword: String, into ranges: inout [ClosedRange<Int>]) throws(ProtoGenError) {
        try self.expect(keyword)
        repeat {
            let start = try self.integer()
            var end = start
            if self.consume("to") {
                end = self.consume("max") ? 536_870_911 : try self.integer()
            }
            guard end >= start else {
                throw ProtoGenError("\(keyword) range \(start) to \(end) is empty", at: self.location)
            }
            ranges.append(start...end)
        } while self.consume(",")
        try self.expect(";")
    }

    /// A `[default = …]` value as `FieldDescriptorProto.default_value` holds it: strings and
    /// bytes unquoted, enum values by name, numbers and booleans as written.
    private static func defaultText(_ option: OptionAssignment) throws(ProtoGenError) -> String {
        switch option.value {
        case .string(let text), .number(let text), .identifier(let text): return text
        case .aggregate, .list: throw ProtoGenError("a default must be a single value", at: option.location)
        }
    }

    private mutating func extend() throws(ProtoGenError) -> [FieldDef] {
        let location = self.location
        try self.expect("extend")
        let extendee = try self.fullIdentifier()
        try self.expect("{")
        var fields: [FieldDef] = []
        var scratch = MessageDef(name: "", location: location)
        while !self.consume("}") {
            guard self.current != nil else { throw ProtoGenError("unterminated extend", at: location) }
            if self.consume(";") { continue }
            var field = try self.field(in: &scratch)
            if field.label == .optional {  // proto2 `optional` parses as .singular
                throw ProtoGenError("extensions cannot be 'optional' in proto3", at: field.location)
            }
            field.extendee = extendee
            fields.append(field)
        }
        return fields
    }

    // MARK: Enums

    private mutating func enumeration() throws(ProtoGenError) -> EnumDef {
        let location = self.location
        try self.expect("enum")
        var definition = EnumDef(name: try self.identifier(), location: location)
        try self.expect("{")
        while !self.consume("}") {
            guard let token = self.current else { throw ProtoGenError("unterminated enum", at: location) }
            switch token.text {
            case ";":
                self.index += 1
            case "option":
                definition.options.append(try self.optionStatement())
            case "reserved":
                try self.reserved(ranges: &definition.reservedRanges, names: &definition.reservedNames)
            default:
                let valueLocation = self.location
                let name = try self.identifier()
                try self.expect("=")
                let number = try self.integer()
                guard let number32 = Int32(exactly: number) else {
                    throw ProtoGenError("enum value \(number) does not fit in int32", at: valueLocation)
                }
                let options = try self.fieldOptions()
                try self.expect(";")
                definition.values.append(
                    EnumValueDef(name: name, number: number32, options: options, location: valueLocation)
                )
            }
        }
        guard let first = definition.values.first else {
            throw ProtoGenError("enum '\(definition.name)' has no values", at: location)
        }
        guard first.number == 0 || self.isProto2 else {
            throw ProtoGenError("the first value of a proto3 enum must be 0", at: first.location)
        }
        return definition
    }

    // MARK: Services

    private mutating func service() throws(ProtoGenError) -> ServiceDef {
        let location = self.location
        try self.expect("service")
        var service = ServiceDef(name: try self.identifier(), location: location)
        try self.expect("{")
        while !self.consume("}") {
            guard let token = self.current else { throw ProtoGenError("unterminated service", at: location) }
            switch token.text {
            case ";":
                self.index += 1
            case "option":
                service.options.append(try self.optionStatement())
            case "rpc":
                service.methods.append(try self.method())
            default:
                throw ProtoGenError("unexpected \(self.describeCurrent()) in service", at: token.location)
            }
        }
        return service
    }

    private mutating func method() throws(ProtoGenError) -> MethodDef {
        let location = self.location
        try self.expect("rpc")
        let name = try self.identifier()
        try self.expect("(")
        let clientStreaming = self.consume("stream")
        let input = try self.fullIdentifier()
        try self.expect(")")
        try self.expect("returns")
        try self.expect("(")
        let serverStreaming = self.consume("stream")
        let output = try self.fullIdentifier()
        try self.expect(")")
        var method = MethodDef(
            name: name,
            inputType: input,
            outputType: output,
            clientStreaming: clientStreaming,
            serverStreaming: serverStreaming,
            location: location
        )
        if self.consume("{") {
            while !self.consume("}") {
                guard self.current != nil else { throw ProtoGenError("unterminated rpc", at: location) }
                if self.consume(";") { continue }
                method.options.append(try self.optionStatement())
            }
            _ = self.consume(";")
        } else {
            try self.expect(";")
        }
        return method
    }
}
