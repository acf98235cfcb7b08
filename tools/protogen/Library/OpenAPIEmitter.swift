/// Writes the OpenAPI 3.1 document of a job's REST routes: paths from the `(sessions.api.http)`
/// options, schemas from the messages under the gateway's JSON mapping, and the envelope and
/// error shapes the gateway really sends.
struct OpenAPIEmitter {
    static let fieldOption = "sessions.api.field"

    /// A JSON value with ordered members, printed with two-space indentation.
    indirect enum Node {
        case string(String)
        case number(Int)
        case bool(Bool)
        case null
        case array([Node])
        case object([(String, Node)])

        func render(indent: Int = 0) -> String {
            let pad = String(repeating: "  ", count: indent + 1)
            let closing = String(repeating: "  ", count: indent)
            switch self {
            case .string(let text): return Self.quoted(text)
            case .number(let number): return String(number)
            case .bool(let flag): return flag ? "true" : "false"
            case .null: return "null"
            case .array(let items):
                if items.isEmpty { return "[]" }
                if items.allSatisfy({ if case .string = $0 { true } else { false } }) {
                    return "[" + items.map { $0.render() }.joined(separator: ", ") + "]"
                }
                return "[\n" + items.map { pad + $0.render(indent: indent + 1) }.joined(separator: ",\n") + "\n" + closing + "]"
            case .object(let members):
                if members.isEmpty { return "{}" }
                return "{\n" + members.map { pad + Self.quoted($0.0) + ": " + $0.1.render(indent: indent + 1) }
                    .joined(separator: ",\n") + "\n" + closing + "}"
            }
        }

        private static func quoted(_ text: String) -> String {
            var result = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": result += "\\\""
                case "\\": result += "\\\\"
                case "\n": result += "\\n"
                default: result.unicodeScalars.append(scalar)
                }
            }
            return result + "\""
        }
    }

    let schema: SchemaSet
    let services: ServiceEmitter

    init(schema: SchemaSet) {
        self.schema = schema
        self.services = ServiceEmitter(schema: schema, json: true)
    }

    /// A message schema to emit, and whether it appears in requests (where only fields marked
    /// required are required, and unknown members are rejected) or in replies (every field present).
    private struct Component {
        var name: String
        var isRequest: Bool
    }

    private struct Route {
        var method: MethodDef
        var rule: ServiceEmitter.HTTPRule
    }

    /// The document, or nil when the files declare no REST routes.
    func document(files: [ProtoFile], title: String) throws(ProtoGenError) -> String? {
        var routes: [Route] = []
        for file in files {
            for service in file.services {
                for method in service.methods {
                    if let rule = try self.services.httpRule(method, package: file.package) {
                        routes.append(Route(method: method, rule: rule))
                    }
                }
            }
        }
        guard !routes.isEmpty else { return nil }

        var componentNames: [Component] = []
        var paths: [(String, Node)] = []
        var pathOrder: [String] = []
        var operations: [String: [(String, Node)]] = [:]
        for route in routes {
            let input = self.schema.messages[route.method.resolvedInput!]!
            let pathFields = Self.templateFields(route.rule.path)
            let openAPIPath = route.rule.path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
                guard segment.hasPrefix("{"), let field = input.fields.first(where: { "{\($0.name)}" == segment }) else {
                    return String(segment)
                }
                return "{\(field.jsonName)}"
            }.joined(separator: "/")
            if operations[openAPIPath] == nil { pathOrder.append(openAPIPath) }
            let operation = self.operation(route, input: input, pathFields: pathFields, components: &componentNames)
            operations[openAPIPath, default: []].append((route.rule.verb.lowercased(), operation))
        }
        for path in pathOrder { paths.append((path, .object(operations[path]!))) }

        var schemas: [(String, Node)] = []
        var index = 0
        while index < componentNames.count {
            let component = componentNames[index]
            schemas.append((self.componentName(component.name), self.messageSchema(component, components: &componentNames)))
            index += 1
        }
        schemas += Self.envelopeSchemas
        let document = Node.object([
            ("openapi", .string("3.1.0")),
            (
                "info",
                .object([
                    ("title", .string(title)),
                    ("version", .string("v1")),
                    (
                        "description",
                        .string(
                            "Generated by protogen from schema/. Every reply is the envelope {success, data, error, metadata}; errors carry the gRPC status name in error.code and field violations in error.details. The same port serves the RPC methods themselves over gRPC, gRPC-Web and the Connect protocol at /<service>/<method>, e.g. `curl -X POST http://HOST/sessions.v1.SessionService/GetSession -H 'content-type: application/json' -H 'connect-protocol-version: 1' -H 'authorization: Bearer TOKEN' -d '{\"sessionId\": \"sess_…\"}'` (protobuf's canonical JSON, not this envelope); see the README, \"Browsers and plain HTTP clients\"."
                        )
                    ),
                ])
            ),
            ("security", .array([.object([("bearerAuth", .array([]))])])),
            ("paths", .object(paths)),
            (
                "components",
                .object([
                    (
                        "securitySchemes",
                        .object([
                            ("bearerAuth", .object([("type", .string("http")), ("scheme", .string("bearer")), ("bearerFormat", .string("JWT"))]))
                        ])
                    ),
                    ("schemas", .object(schemas)),
                ])
            ),
        ])
        return document.render() + "\n"
    }

    private static func templateFields(_ path: String) -> Set<String> {
        Set(path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
    }

    private func componentName(_ fullName: String) -> String {
        SwiftNames(schema: self.schema).typeName(fullName)
    }

    private func reference(_ fullName: String, isRequest: Bool, components: inout [Component]) -> Node {
        if !components.contains(where: { $0.name == fullName }) { components.append(Component(name: fullName, isRequest: isRequest)) }
        return .object([("$ref", .string("#/components/schemas/\(self.componentName(fullName))"))])
    }

    /// The field's `(sessions.api.field)` rules as name → value.
    private func rules(_ field: FieldDef) -> [String: OptionValue] {
        guard let option = field.options.first(where: { $0.isExtension && $0.name.hasSuffix(Self.fieldOption) }),
            case .aggregate(let entries) = option.value
        else { return [:] }
        var rules: [String: OptionValue] = [:]
        for entry in entries { rules[entry.name] = entry.value }
        return rules
    }

    private func isRequired(_ field: FieldDef) -> Bool {
        if case .identifier("true") = self.rules(field)["required"] { return true }
        return false
    }

    /// JSON Schema keywords for a request field's rules.
    private func constraints(_ field: FieldDef) -> [(String, Node)] {
        let rules = self.rules(field)
        var keywords: [(String, Node)] = []
        let isString = field.resolvedType == .scalar(.string) && field.label != .repeated
        if isString, self.isRequired(field) { keywords.append(("minLength", .number(1))) }
        let mapping: [(rule: String, keyword: String)] = [
            ("minimum", "minimum"), ("maximum", "maximum"), ("max_length", "maxLength"),
            ("min_items", "minItems"), ("max_items", "maxItems"),
        ]
        for (rule, keyword) in mapping {
            if case .number(let text) = rules[rule], let number = Int(text) { keywords.append((keyword, .number(number))) }
        }
        if case .string(let pattern) = rules["pattern"] { keywords.append(("pattern", .string(pattern))) }
        return keywords
    }

    // MARK: Operations

    private func operation(_ route: Route, input: MessageDef, pathFields: Set<String>, components: inout [Component]) -> Node {
        var members: [(String, Node)] = [("operationId", .string(route.method.name))]
        var parameters: [Node] = []
        for field in input.fields where pathFields.contains(field.name) {
            parameters.append(.object([
                ("name", .string(field.jsonName)), ("in", .string("path")), ("required", .bool(true)),
                ("schema", .object([("type", .string("string")), ("minLength", .number(1))])),
            ]))
        }
        if route.rule.body.isEmpty {
            for field in input.fields where !pathFields.contains(field.name) {
                parameters.append(.object([
                    ("name", .string(field.jsonName)), ("in", .string("query")), ("required", .bool(self.isRequired(field))),
                    ("schema", self.fieldSchema(field, nullable: false, isRequest: true, components: &components)),
                ]))
            }
        }
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }
        if route.rule.body == "*" {
            let bodyFields = input.fields.filter { !pathFields.contains($0.name) }
            let required = bodyFields.filter(self.isRequired).map { Node.string($0.jsonName) }
            var bodySchema: [(String, Node)] = [("type", .string("object"))]
            bodySchema.append(("properties", .object(bodyFields.map { ($0.jsonName, self.fieldSchema($0, nullable: true, isRequest: true, components: &components)) })))
            if !required.isEmpty { bodySchema.append(("required", .array(required))) }
            bodySchema.append(("additionalProperties", .bool(false)))
            members.append((
                "requestBody",
                .object([
                    ("required", .bool(!required.isEmpty)),
                    ("content", .object([("application/json", .object([("schema", .object(bodySchema))]))])),
                ])
            ))
        }

        var responses: [(String, Node)] = []
        let output = route.method.resolvedOutput!
        if route.method.serverStreaming {
            responses.append((
                String(route.rule.successStatus),
                .object([
                    ("description", .string("Server-Sent Events, one per message: `id:` counts from 1, `data:` is one \(self.componentName(output)) as JSON.")),
                    ("content", .object([("text/event-stream", .object([("schema", .object([
                        ("type", .string("object")),
                        ("properties", .object([
                            ("id", .object([("type", .string("string"))])),
                            ("event", .object([("type", .string("string"))])),
                            ("data", .object([
                                ("type", .string("string")), ("contentMediaType", .string("application/json")),
                                ("contentSchema", self.reference(output, isRequest: false, components: &components)),
                            ])),
                        ])),
                        ("required", .array([.string("data")])),
                    ]))]))])),
                ])
            ))
        } else {
            let data: Node
            var metadata: Node = .object([("type", .string("null"))])
            if !route.rule.responseBody.isEmpty, let message = self.schema.messages[output],
                let field = message.fields.first(where: { $0.name == route.rule.responseBody })
            {
                data = self.fieldSchema(field, nullable: false, isRequest: false, components: &components)
                let rest = message.fields.filter { $0.name != route.rule.responseBody }
                metadata = .object([
                    ("type", .string("object")),
                    ("properties", .object(rest.map { ($0.jsonName, self.fieldSchema($0, nullable: true, isRequest: false, components: &components)) })),
                    ("required", .array(rest.map { .string($0.jsonName) })),
                ])
            } else {
                data = self.reference(output, isRequest: false, components: &components)
            }
            var success: [(String, Node)] = [
                ("description", .string("Success.")),
                ("content", .object([("application/json", .object([("schema", Self.successEnvelope(data: data, metadata: metadata))]))])),
            ]
            if route.rule.successStatus == 201 {
                success.append(("headers", .object([
                    ("Location", .object([("description", .string("Where the created resource can be read.")), ("schema", .object([("type", .string("string"))]))]))
                ])))
            }
            responses.append((String(route.rule.successStatus), .object(success)))
        }
        var errors: [(String, String)] = [
            ("400", "A malformed request or an invalid field value; `error.details` names each field."),
            ("401", "Missing or invalid bearer token (with `WWW-Authenticate: Bearer`)."),
            ("403", "The caller's role may not do this to a session it can see."),
            ("404", "No such session visible to the caller."),
        ]
        if !route.method.serverStreaming && route.rule.verb != "GET" {
            errors.append(("409", "The session's state does not allow this (or it already exists)."))
        }
        if route.rule.body == "*" {
            errors.append(("413", "The body is larger than the limit."))
            errors.append(("415", "The body is not application/json."))
        }
        errors.append(("429", "Rate limited; retry after `Retry-After` seconds."))
        for (status, description) in errors {
            var response: [(String, Node)] = [
                ("description", .string(description)),
                ("content", .object([("application/json", .object([("schema", .object([("$ref", .string("#/components/schemas/ErrorEnvelope"))]))]))])),
            ]
            if status == "429" {
                response.append(("headers", .object([("Retry-After", .object([("schema", .object([("type", .string("integer"))]))]))])))
            }
            if status == "401" {
                response.append(("headers", .object([("WWW-Authenticate", .object([("schema", .object([("type", .string("string"))]))]))])))
            }
            responses.append((status, .object(response)))
        }
        responses.append((
            "default",
            .object([
                ("description", .string("Any other error (5xx), in the same envelope.")),
                ("content", .object([("application/json", .object([("schema", .object([("$ref", .string("#/components/schemas/ErrorEnvelope"))]))]))])),
            ])
        ))
        members.append(("responses", .object(responses)))
        return .object(members)
    }

    private static func successEnvelope(data: Node, metadata: Node) -> Node {
        .object([
            ("type", .string("object")),
            (
                "properties",
                .object([
                    ("success", .object([("const", .bool(true))])),
                    ("data", data),
                    ("error", .object([("type", .string("null"))])),
                    ("metadata", metadata),
                ])
            ),
            ("required", .array([.string("success"), .string("data"), .string("error"), .string("metadata")])),
        ])
    }

    private static let envelopeSchemas: [(String, Node)] = [
        (
            "ErrorEnvelope",
            .object([
                ("type", .string("object")),
                (
                    "properties",
                    .object([
                        ("success", .object([("const", .bool(false))])),
                        ("data", .object([("type", .string("null"))])),
                        ("error", .object([("$ref", .string("#/components/schemas/Error"))])),
                        ("metadata", .object([("type", .string("null"))])),
                    ])
                ),
                ("required", .array([.string("success"), .string("data"), .string("error"), .string("metadata")])),
            ])
        ),
        (
            "Error",
            .object([
                ("type", .string("object")),
                (
                    "properties",
                    .object([
                        ("code", .object([("type", .string("string")), ("description", .string("The gRPC status name, e.g. NOT_FOUND."))])),
                        ("message", .object([("type", .string("string"))])),
                        ("details", .object([("type", .string("array")), ("items", .object([("$ref", .string("#/components/schemas/FieldViolation"))]))])),
                    ])
                ),
                ("required", .array([.string("code"), .string("message"), .string("details")])),
            ])
        ),
        (
            "FieldViolation",
            .object([
                ("type", .string("object")),
                (
                    "properties",
                    .object([
                        ("field", .object([("type", .string("string"))])),
                        ("description", .object([("type", .string("string"))])),
                    ])
                ),
                ("required", .array([.string("field"), .string("description")])),
            ])
        ),
    ]

    // MARK: Schemas

    private func messageSchema(_ component: Component, components: inout [Component]) -> Node {
        guard let message = self.schema.messages[component.name] else { return .object([("type", .string("object"))]) }
        let fields = message.fields.sorted { $0.number < $1.number }
        var members: [(String, Node)] = [("type", .string("object"))]
        members.append((
            "properties",
            .object(fields.map { ($0.jsonName, self.fieldSchema($0, nullable: true, isRequest: component.isRequest, components: &components)) })
        ))
        if component.isRequest {
            let required = fields.filter(self.isRequired)
            if !required.isEmpty { members.append(("required", .array(required.map { .string($0.jsonName) }))) }
            members.append(("additionalProperties", .bool(false)))
        } else {
            members.append(("required", .array(fields.map { .string($0.jsonName) })))
        }
        return .object(members)
    }

    /// A field's schema; `nullable` where the gateway writes null for an unset value.
    private func fieldSchema(_ field: FieldDef, nullable: Bool, isRequest: Bool, components: inout [Component]) -> Node {
        let type = field.resolvedType!
        if field.mapEntryName != nil, case .message(let entryName) = type, let entry = self.schema.messages[entryName],
            entry.fields.count == 2
        {
            return .object([
                ("type", .string("object")),
                ("additionalProperties", self.valueSchema(entry.fields[1].resolvedType!, isRequest: isRequest, components: &components)),
            ])
        }
        let constraints = isRequest ? self.constraints(field) : []
        // A rule in words (`description` in the field's rules) annotates the field's whole schema.
        let description: String? = if isRequest, case .string(let text) = self.rules(field)["description"] { text } else { nil }
        func described(_ node: Node) -> Node {
            guard let description, case .object(let members) = node else { return node }
            return .object(members + [("description", .string(description))])
        }
        if field.label == .repeated {
            return .object(
                [("type", .string("array")), ("items", self.valueSchema(type, isRequest: isRequest, components: &components))] + constraints
            )
        }
        var value = self.valueSchema(type, isRequest: isRequest, components: &components)
        if !constraints.isEmpty, case .object(let members) = value { value = .object(members + constraints) }
        let canBeNull: Bool
        if isRequest {
            // The gateway reads null as "unset", which only a required field refuses.
            canBeNull = !self.isRequired(field)
        } else if case .message = type {
            canBeNull = true
        } else {
            canBeNull = field.label == .optional || field.oneofIndex != nil
        }
        guard nullable && canBeNull else { return described(value) }
        return described(.object([("anyOf", .array([value, .object([("type", .string("null"))])]))]))
    }

    private func valueSchema(_ type: FieldType, isRequest: Bool, components: inout [Component]) -> Node {
        switch type {
        case .scalar(let scalar):
            switch scalar {
            case .string: return .object([("type", .string("string"))])
            case .bool: return .object([("type", .string("boolean"))])
            case .bytes: return .object([("type", .string("string")), ("contentEncoding", .string("base64"))])
            case .double, .float: return .object([("type", .string("number"))])
            case .int32, .sint32, .sfixed32: return .object([("type", .string("integer")), ("format", .string("int32"))])
            case .uint32, .fixed32:
                return .object([("type", .string("integer")), ("minimum", .number(0)), ("maximum", .number(4_294_967_295))])
            case .int64, .sint64, .sfixed64: return .object([("type", .string("integer")), ("format", .string("int64"))])
            case .uint64, .fixed64: return .object([("type", .string("integer")), ("minimum", .number(0))])
            }
        case .enumeration(let name):
            guard let definition = self.schema.enums[name] else { return .object([("type", .string("string"))]) }
            var seen = Set<Int32>()
            let names = definition.values.filter { seen.insert($0.number).inserted }.map {
                Node.string(JSONEmitter.jsonName(of: $0, in: definition))
            }
            return .object([("type", .string("string")), ("enum", .array(names))])
        case .message(JSONEmitter.timestampType):
            return .object([("type", .string("string")), ("format", .string("date-time"))])
        case .message(let name):
            return self.reference(name, isRequest: isRequest, components: &components)
        }
    }
}
