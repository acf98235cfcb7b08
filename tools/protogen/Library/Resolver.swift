/// Every file of one generation run, with names resolved across files.
struct SchemaSet {
    /// Files in load order; builtin files are included but never generated.
    private(set) var files: [ProtoFile] = []
    private(set) var builtinPaths: Set<String> = []
    /// Fully qualified message names → definition.
    private(set) var messages: [String: MessageDef] = [:]
    /// Fully qualified enum names → definition.
    private(set) var enums: [String: EnumDef] = [:]
    /// Fully qualified extension names → definition (for custom options).
    private(set) var extensions: [String: FieldDef] = [:]
    /// Fully qualified type name → the file that declares it.
    private(set) var fileOfType: [String: String] = [:]
    private var packagePrefixes: Set<String> = []

    /// Loads `paths` (relative to `root`) and everything they import, then resolves all names.
    static func load(paths: [String], readFile: (String) throws -> String) throws(ProtoGenError) -> SchemaSet {
        var set = SchemaSet()
        var loaded: Set<String> = []
        var order: [String] = []

        func visit(_ path: String, from importer: String?) throws(ProtoGenError) {
            guard !loaded.contains(path) else { return }
            loaded.insert(path)
            let source: String
            if let builtin = BuiltinFiles.sources[path] {
                source = builtin
                set.builtinPaths.insert(path)
            } else {
                do {
                    source = try readFile(path)
                } catch {
                    throw ProtoGenError("cannot read '\(path)': \(error)", file: importer ?? path)
                }
            }
            let file = try Parser.parse(source, path: path)
            for dependency in file.imports {
                try visit(dependency.path, from: path)
            }
            set.files.append(file)
            order.append(path)
        }
        for path in paths {
            try visit(path, from: nil)
        }
        try set.indexSymbols()
        try set.resolveAll()
        return set
    }

    func file(_ path: String) -> ProtoFile? {
        self.files.first { $0.path == path }
    }

    // MARK: Symbol table

    private mutating func indexSymbols() throws(ProtoGenError) {
        for file in self.files {
            var prefix = ""
            for part in file.package.split(separator: ".") {
                prefix = prefix.isEmpty ? String(part) : prefix + "." + part
                self.packagePrefixes.insert(prefix)
            }
            for message in file.messages {
                try self.index(message, scope: file.package, file: file.path)
            }
            for definition in file.enums {
                try self.index(definition, scope: file.package, file: file.path)
            }
            for extensionField in file.extensions {
                self.extensions[Self.qualify(file.package, extensionField.name)] = extensionField
            }
        }
    }

    private mutating func index(_ message: MessageDef, scope: String, file: String) throws(ProtoGenError) {
        let name = Self.qualify(scope, message.name)
        guard self.messages[name] == nil, self.enums[name] == nil else {
            throw ProtoGenError("'\(name)' is already defined", at: message.location)
        }
        self.messages[name] = message
        self.fileOfType[name] = file
        for nested in message.nestedMessages {
            try self.index(nested, scope: name, file: file)
        }
        for nested in message.nestedEnums {
            try self.index(nested, scope: name, file: file)
        }
        for extensionField in message.extensions {
            self.extensions[Self.qualify(name, extensionField.name)] = extensionField
        }
    }

    private mutating func index(_ definition: EnumDef, scope: String, file: String) throws(ProtoGenError) {
        let name = Self.qualify(scope, definition.name)
        guard self.messages[name] == nil, self.enums[name] == nil else {
            throw ProtoGenError("'\(name)' is already defined", at: definition.location)
        }
        self.enums[name] = definition
        self.fileOfType[name] = file
    }

    static func qualify(_ scope: String, _ name: String) -> String {
        scope.isEmpty ? name : scope + "." + name
    }

    /// Resolves a type reference by protobuf's scoping rules: the innermost scope that defines
    /// the reference's first component wins, and the rest must resolve under it.
    func resolveName(_ reference: String, scope: String) -> String? {
        if reference.hasPrefix(".") {
            let name = String(reference.dropFirst())
            return self.messages[name] != nil || self.enums[name] != nil ? name : nil
        }
        let first = String(reference.prefix { $0 != "." })
        var scopeParts = scope.split(separator: ".").map(String.init)
        while true {
            let prefix = scopeParts.joined(separator: ".")
            let candidateFirst = Self.qualify(prefix, first)
            if self.messages[candidateFirst] != nil || self.enums[candidateFirst] != nil
                || self.packagePrefixes.contains(candidateFirst)
            {
                let full = Self.qualify(prefix, reference)
                if self.messages[full] != nil || self.enums[full] != nil { return full }
                // C++ protoc keeps looking outward only when the first component was a package.
                if !self.packagePrefixes.contains(candidateFirst) { return nil }
            }
            guard !scopeParts.isEmpty else { return nil }
            scopeParts.removeLast()
        }
    }

    func resolveExtension(_ reference: String, scope: String) -> String? {
        if reference.hasPrefix(".") {
            let name = String(reference.dropFirst())
            return self.extensions[name] != nil ? name : nil
        }
        var scopeParts = scope.split(separator: ".").map(String.init)
        while true {
            let full = Self.qualify(scopeParts.joined(separator: "."), reference)
            if self.extensions[full] != nil { return full }
            guard !scopeParts.isEmpty else { return nil }
            scopeParts.removeLast()
        }
    }

    // MARK: Resolution

    private mutating func resolveAll() throws(ProtoGenError) {
        for fileIndex in self.files.indices {
            var file = self.files[fileIndex]
            for index in file.messages.indices {
                try self.resolve(&file.messages[index], scope: Self.qualify(file.package, file.messages[index].name))
            }
            for index in file.extensions.indices {
                try self.resolveField(&file.extensions[index], scope: file.package)
            }
            for serviceIndex in file.services.indices {
                for methodIndex in file.services[serviceIndex].methods.indices {
                    var method = file.services[serviceIndex].methods[methodIndex]
                    method.resolvedInput = try self.resolveMessage(method.inputType, scope: file.package, at: method.location)
                    method.resolvedOutput = try self.resolveMessage(
                        method.outputType,
                        scope: file.package,
                        at: method.location
                    )
                    file.services[serviceIndex].methods[methodIndex] = method
                }
            }
            self.files[fileIndex] = file
        }
        // Refresh the lookup tables with resolved definitions.
        self.messages = [:]
        self.enums = [:]
        self.extensions = [:]
        try self.indexSymbols()
    }

    private func resolveMessage(_ reference: String, scope: String, at location: SourceLocation) throws(ProtoGenError)
        -> String
    {
        guard let name = self.resolveName(reference, scope: scope), self.messages[name] != nil else {
            throw ProtoGenError("'\(reference)' is not a message type", at: location)
        }
        return name
    }

    private func resolve(_ message: inout MessageDef, scope: String) throws(ProtoGenError) {
        var numbers: [Int: String] = [:]
        var names: Set<String> = []
        for index in message.fields.indices {
            try self.resolveField(&message.fields[index], scope: scope)
            let field = message.fields[index]
            if let other = numbers[field.number] {
                throw ProtoGenError("field number \(field.number) is used by '\(other)' and '\(field.name)'", at: field.location)
            }
            guard names.insert(field.name).inserted else {
                throw ProtoGenError("field '\(field.name)' is declared twice", at: field.location)
            }
            numbers[field.number] = field.name
            if message.reservedRanges.contains(where: { $0.contains(field.number) }) {
                throw ProtoGenError("field number \(field.number) is reserved", at: field.location)
            }
            if message.reservedNames.contains(field.name) {
                throw ProtoGenError("field name '\(field.name)' is reserved", at: field.location)
            }
        }
        Self.orderOneofs(&message)
        for index in message.nestedMessages.indices {
            try self.resolve(&message.nestedMessages[index], scope: Self.qualify(scope, message.nestedMessages[index].name))
        }
        for index in message.extensions.indices {
            try self.resolveField(&message.extensions[index], scope: scope)
        }
    }

    /// protoc lists real oneofs first, then the synthetic ones of proto3 `optional` fields.
    private static func orderOneofs(_ message: inout MessageDef) {
        let real = message.oneofs.indices.filter { !message.oneofs[$0].isSynthetic }
        let synthetic = message.oneofs.indices.filter { message.oneofs[$0].isSynthetic }
        let order = real + synthetic
        guard order != Array(message.oneofs.indices) else { return }
        var newIndex: [Int: Int] = [:]
        for (position, old) in order.enumerated() { newIndex[old] = position }
        message.oneofs = order.map { message.oneofs[$0] }
        for index in message.fields.indices {
            if let old = message.fields[index].oneofIndex { message.fields[index].oneofIndex = newIndex[old] }
        }
    }

    private func resolveField(_ field: inout FieldDef, scope: String) throws(ProtoGenError) {
        if let scalar = ScalarType(rawValue: field.typeName) {
            field.resolvedType = .scalar(scalar)
        } else if let name = self.resolveName(field.typeName, scope: scope) {
            field.resolvedType = self.messages[name] != nil ? .message(name) : .enumeration(name)
        } else {
            throw ProtoGenError("unknown type '\(field.typeName)'", at: field.location)
        }
        if let extendee = field.extendee {
            guard let name = self.resolveName(extendee, scope: scope), self.messages[name] != nil else {
                throw ProtoGenError("unknown message '\(extendee)' to extend", at: field.location)
            }
            field.resolvedExtendee = name
        }
        if field.options.contains(where: { $0.name == "packed" && !$0.isExtension }) {
            var packable = field.label == .repeated && field.mapEntryName == nil
            if case .scalar(let scalar) = field.resolvedType, !scalar.isPackable { packable = false }
            if case .message = field.resolvedType, field.mapEntryName == nil { packable = false }
            if !packable {
                throw ProtoGenError("[packed] applies only to repeated numeric fields", at: field.location)
            }
        }
    }
}
