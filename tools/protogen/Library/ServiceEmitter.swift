/// Writes the Swift side of a service: method descriptors, the provider protocol the server
/// implements, its routes and a typed client (`emit`), and apart from them the HTTP route table
/// from `(sessions.api.http)` (`emitHTTPRoutes`).
struct ServiceEmitter {
    /// The custom method option that carries a REST mapping.
    static let httpOption = "sessions.api.http"

    let schema: SchemaSet
    let names: SwiftNames
    /// Also emit the JSON bindings of the REST routes.
    let json: Bool

    init(schema: SchemaSet, json: Bool = false) {
        self.schema = schema
        self.names = SwiftNames(schema: schema)
        self.json = json
    }

    private struct Method {
        var def: MethodDef
        var swiftName: String
        var input: String
        var output: String
        var kind: String
    }

    private func methods(of service: ServiceDef) -> [Method] {
        service.methods.map { method in
            let kind: String =
                switch (method.clientStreaming, method.serverStreaming) {
                case (false, false): "unary"
                case (false, true): "serverStreaming"
                case (true, false): "clientStreaming"
                case (true, true): "bidirectionalStreaming"
                }
            return Method(
                def: method,
                swiftName: Naming.swiftIdentifier(Self.lowerFirst(method.name)),
                input: self.names.typeName(method.resolvedInput!),
                output: self.names.typeName(method.resolvedOutput!),
                kind: kind
            )
        }
    }

    /// The method descriptors, the provider protocol with its routes, and the typed client.
    func emit(_ service: ServiceDef, package: String, into out: inout CodeWriter) throws(ProtoGenError) {
        let fullName = SchemaSet.qualify(package, service.name)
        let methods = self.methods(of: service)
        let methodsType = "\(service.name)Methods"

        out.line("/// The methods of `\(fullName)`.")
        try out.block("package enum \(methodsType)") { out in
            for method in methods {
                let readOnly = Self.hasNoSideEffects(method.def) ? ", hasNoSideEffects: true" : ""
                out.line(
                    "package static let \(method.swiftName) = RPCMethod(service: \"\(fullName)\", name: \"\(method.def.name)\", kind: .\(method.kind)\(readOnly))"
                )
            }
            out.line()
            out.line("package static let all: [RPCMethod] = [\(methods.map { $0.swiftName }.joined(separator: ", "))]")
        }
        out.line()

        out.line("/// The server side of `\(fullName)`: what a service implementation provides.")
        try out.block("package protocol \(service.name)Provider: Sendable") { out in
            for method in methods {
                out.line(self.providerRequirement(method))
            }
        }
        out.line()

        try out.block("extension \(service.name)Provider") { (out: inout CodeWriter) throws(ProtoGenError) in
            out.line("/// This provider's methods, ready to register with an `RPCRouter`.")
            try out.block("package var routes: [RPCRoute]") { out in
                out.line("[")
                for method in methods {
                    out.line("    RPCRoute(method: \(methodsType).\(method.swiftName), handler: \(self.routeHandler(method))),")
                }
                out.line("]")
            }
        }
        out.line()

        out.line("/// A typed client for `\(fullName)` over any `RPCChannel`.")
        try out.block("package struct \(service.name)Client: Sendable") { (out: inout CodeWriter) throws(ProtoGenError) in
            out.line("package let channel: any RPCChannel")
            out.line()
            out.line("package init(channel: any RPCChannel) {")
            out.line("    self.channel = channel")
            out.line("}")
            for method in methods {
                out.line()
                try self.emitClientMethod(method, methodsType: methodsType, into: &out)
            }
        }
    }

    /// The REST route table from the methods' `(sessions.api.http)` options; false when no method has one.
    func emitHTTPRoutes(_ service: ServiceDef, package: String, into out: inout CodeWriter) throws(ProtoGenError) -> Bool {
        let fullName = SchemaSet.qualify(package, service.name)
        let methods = self.methods(of: service)
        let methodsType = "\(service.name)Methods"
        var routes: [(route: String, method: Method)] = []
        for method in methods {
            if let route = try self.httpRoute(method, methodsType: methodsType, package: package) {
                routes.append((route, method))
            }
        }
        guard !routes.isEmpty else { return false }
        out.line("/// The REST mapping of `\(fullName)`, from its `(\(Self.httpOption))` options.")
        try out.block("package enum \(service.name)HTTPRoutes") { out in
            out.line("package static let all: [HTTPRoute] = [")
            for (route, _) in routes { out.line("    \(route),") }
            out.line("]")
            if self.json {
                out.line()
                out.line("/// Each route with the JSON mapping of its request and response messages.")
                out.line("package static let bindings: [HTTPBinding] = [")
                for (index, (_, method)) in routes.enumerated() {
                    out.line("    HTTPBinding(all[\(index)], request: \(method.input).self, response: \(method.output).self),")
                }
                out.line("]")
            }
        }
        return true
    }

    /// The JSON codecs of every method (protobuf's canonical JSON mapping), for RPC protocols
    /// that carry JSON (Connect); emitted only for modules with the JSON mapping.
    func emitJSONCodecs(_ service: ServiceDef, package: String, into out: inout CodeWriter) throws(ProtoGenError) {
        let fullName = SchemaSet.qualify(package, service.name)
        let methodsType = "\(service.name)Methods"
        out.line("/// The methods of `\(fullName)` with protobuf's canonical JSON mapping of their messages.")
        try out.block("package enum \(service.name)JSONCodecs") { out in
            out.line("package static let all: [RPCJSONCodec] = [")
            for method in self.methods(of: service) {
                out.line("    RPCJSONCodec(\(methodsType).\(method.swiftName), request: \(method.input).self, response: \(method.output).self),")
            }
            out.line("]")
        }
    }

    /// `option idempotency_level = NO_SIDE_EFFECTS;`: the method may be called with HTTP GET.
    static func hasNoSideEffects(_ method: MethodDef) -> Bool {
        method.options.contains { option in
            guard option.name == "idempotency_level", !option.isExtension, case .identifier(let level) = option.value else {
                return false
            }
            return level == "NO_SIDE_EFFECTS"
        }
    }

    private static func lowerFirst(_ name: String) -> String {
        // `GetSession` → `getSession`; a leading acronym is lowered as a whole (`HTTPGet` → `httpGet`).
        let characters = Array(name)
        var index = 0
        while index < characters.count && characters[index].isUppercase { index += 1 }
        if index <= 1 || index == characters.count { return name.prefix(max(index, 1)).lowercased() + name.dropFirst(max(index, 1)) }
        return String(characters[0..<(index - 1)]).lowercased() + String(characters[(index - 1)...])
    }

    private func providerRequirement(_ method: Method) -> String {
        switch method.kind {
        case "unary":
            "func \(method.swiftName)(_ request: \(method.input), context: CallContext) async throws -> \(method.output)"
        case "serverStreaming":
            "func \(method.swiftName)(_ request: \(method.input), responses: RPCResponseWriter<\(method.output)>, context: CallContext) async throws"
        case "clientStreaming":
            "func \(method.swiftName)(_ requests: RPCRequestStream<\(method.input)>, context: CallContext) async throws -> \(method.output)"
        default:
            "func \(method.swiftName)(_ requests: RPCRequestStream<\(method.input)>, responses: RPCResponseWriter<\(method.output)>, context: CallContext) async throws"
        }
    }

    private func routeHandler(_ method: Method) -> String {
        switch method.kind {
        case "unary":
            ".unary { try await self.\(method.swiftName)(\(method.input)(decodingRequest: $0), context: $1).serializedBytes() }"
        case "serverStreaming":
            ".serverStreaming { try await self.\(method.swiftName)(\(method.input)(decodingRequest: $0), responses: RPCResponseWriter($1), context: $2) }"
        case "clientStreaming":
            ".clientStreaming { try await self.\(method.swiftName)(RPCRequestStream($0), context: $1).serializedBytes() }"
        default:
            ".bidirectionalStreaming { try await self.\(method.swiftName)(RPCRequestStream($0), responses: RPCResponseWriter($1), context: $2) }"
        }
    }

    private func emitClientMethod(_ method: Method, methodsType: String, into out: inout CodeWriter) throws(ProtoGenError) {
        let descriptor = "\(methodsType).\(method.swiftName)"
        switch method.kind {
        case "unary":
            out.line("package func \(method.swiftName)(")
            out.line("    _ request: \(method.input),")
            out.line("    options: CallOptions = CallOptions()")
            try out.block(") async throws -> \(method.output)") { out in
                out.line("let reply = try await self.channel.unary(\(descriptor), request: request.serializedBytes(), options: options)")
                out.line("return try \(method.output)(decodingReply: reply)")
            }
        case "serverStreaming":
            out.line("package func \(method.swiftName)(")
            out.line("    _ request: \(method.input),")
            out.line("    options: CallOptions = CallOptions(),")
            out.line("    onResponse: @escaping @Sendable (\(method.output)) async throws -> Void")
            try out.block(") async throws") { out in
                out.line("try await self.channel.serverStreaming(\(descriptor), request: request.serializedBytes(), options: options) {")
                out.line("    try await onResponse(\(method.output)(decodingReply: $0))")
                out.line("}")
            }
        case "clientStreaming":
            out.line("package func \(method.swiftName)(")
            out.line("    options: CallOptions = CallOptions(),")
            out.line("    requests: @escaping @Sendable (RPCRequestWriter<\(method.input)>) async throws -> Void")
            try out.block(") async throws -> \(method.output)") { out in
                out.line("let reply = try await self.channel.clientStreaming(\(descriptor), options: options) {")
                out.line("    try await requests(RPCRequestWriter($0))")
                out.line("}")
                out.line("return try \(method.output)(decodingReply: reply)")
            }
        default:
            out.line("package func \(method.swiftName)(")
            out.line("    options: CallOptions = CallOptions(),")
            out.line("    requests: @escaping @Sendable (RPCRequestWriter<\(method.input)>) async throws -> Void,")
            out.line("    onResponse: @escaping @Sendable (\(method.output)) async throws -> Void")
            try out.block(") async throws") { out in
                out.line("try await self.channel.bidirectionalStreaming(")
                out.line("    \(descriptor),")
                out.line("    options: options,")
                out.line("    requests: { try await requests(RPCRequestWriter($0)) },")
                out.line("    onResponse: { try await onResponse(\(method.output)(decodingReply: $0)) }")
                out.line(")")
            }
        }
    }

    /// A method's `(sessions.api.http)` option, checked against its messages.
    struct HTTPRule {
        var verb: String
        var path: String
        var body: String
        var responseBody: String
        var successStatus: Int
    }

    /// The HTTP rule of a method, or nil when it has none.
    func httpRule(_ method: MethodDef, package: String) throws(ProtoGenError) -> HTTPRule? {
        guard
            let option = method.options.first(where: {
                $0.isExtension && self.schema.resolveExtension($0.name, scope: package) == Self.httpOption
            })
        else { return nil }
        guard case .aggregate(let entries) = option.value else {
            throw ProtoGenError("(\(Self.httpOption)) needs a { … } value", at: option.location)
        }
        var verb: String?
        var path: String?
        var body = ""
        var responseBody = ""
        var status = 200
        for entry in entries {
            switch (entry.name, entry.value) {
            case ("get", .string(let value)), ("put", .string(let value)), ("post", .string(let value)),
                ("delete", .string(let value)), ("patch", .string(let value)):
                guard verb == nil else {
                    throw ProtoGenError("an HTTP rule takes exactly one of get/put/post/delete/patch", at: entry.location)
                }
                verb = entry.name.uppercased()
                path = value
            case ("body", .string(let value)):
                body = value
            case ("response_body", .string(let value)):
                responseBody = value
            case ("success_status", .number(let value)):
                guard let number = Int(value), (200...299).contains(number) else {
                    throw ProtoGenError("success_status must be a 2xx status", at: entry.location)
                }
                status = number
            default:
                throw ProtoGenError("unsupported HTTP rule field '\(entry.name)'", at: entry.location)
            }
        }
        guard let verb, let path, path.hasPrefix("/") else {
            throw ProtoGenError("an HTTP rule needs a path starting with '/'", at: option.location)
        }
        if verb == "GET" && !body.isEmpty {
            throw ProtoGenError("a GET rule cannot have a body", at: option.location)
        }
        try self.checkTemplate(path, input: method.resolvedInput!, at: option.location)
        if !responseBody.isEmpty {
            let output = self.schema.messages[method.resolvedOutput!]
            guard output?.fields.contains(where: { $0.name == responseBody }) == true else {
                throw ProtoGenError("response_body '\(responseBody)' is not a field of \(method.resolvedOutput!)", at: option.location)
            }
        }
        return HTTPRule(verb: verb, path: path, body: body, responseBody: responseBody, successStatus: status)
    }

    /// The `HTTPRoute(...)` initializer for a method with an HTTP option, or nil.
    private func httpRoute(_ method: Method, methodsType: String, package: String) throws(ProtoGenError) -> String? {
        guard let rule = try self.httpRule(method.def, package: package) else { return nil }
        let responseArgument = rule.responseBody.isEmpty ? "" : "responseBody: \"\(rule.responseBody)\", "
        return "HTTPRoute(method: \"\(rule.verb)\", pathTemplate: \"\(rule.path)\", body: \"\(rule.body)\", "
            + "\(responseArgument)successStatus: \(rule.successStatus), rpc: \(methodsType).\(method.swiftName))"
    }

    /// Every `{field}` in a path template must name a string field of the request.
    private func checkTemplate(_ path: String, input: String, at location: SourceLocation) throws(ProtoGenError) {
        guard let message = self.schema.messages[input] else { return }
        for segment in path.split(separator: "/") where segment.hasPrefix("{") {
            guard segment.hasSuffix("}") else {
                throw ProtoGenError("bad path segment '\(segment)'", at: location)
            }
            let name = String(segment.dropFirst().dropLast())
            guard let field = message.fields.first(where: { $0.name == name }), field.resolvedType == .scalar(.string),
                field.label == .singular
            else {
                throw ProtoGenError("path parameter {\(name)} is not a string field of \(input)", at: location)
            }
        }
    }
}
