/// How many messages each side of an RPC sends.
package enum RPCKind: String, Sendable, Hashable {
    case unary
    case serverStreaming
    case clientStreaming
    case bidirectionalStreaming

    package var clientStreams: Bool { self == .clientStreaming || self == .bidirectionalStreaming }
    package var serverStreams: Bool { self == .serverStreaming || self == .bidirectionalStreaming }
}

/// Describes one RPC: generated for every method in `schema/`.
package struct RPCMethod: Sendable, Hashable, CustomStringConvertible {
    /// Fully qualified service name, e.g. `sessions.v1.SessionService`.
    package var service: String { didSet { self.path = Self.path(self.service, self.name) } }
    /// Method name as declared, e.g. `GetSession`.
    package var name: String { didSet { self.path = Self.path(self.service, self.name) } }
    package var kind: RPCKind
    /// `option idempotency_level = NO_SIDE_EFFECTS`: a read that may be called with HTTP GET
    /// (the Connect protocol's GET requests) and retried freely.
    package var hasNoSideEffects: Bool
    /// The HTTP/2 `:path` of the method (gRPC over HTTP/2: "/" Service-Name "/" Method-Name);
    /// kept rather than computed, since every call's lookups and metrics use it.
    package private(set) var path: String

    package init(service: String, name: String, kind: RPCKind, hasNoSideEffects: Bool = false) {
        self.service = service
        self.name = name
        self.kind = kind
        self.hasNoSideEffects = hasNoSideEffects
        self.path = Self.path(service, name)
    }

    private static func path(_ service: String, _ name: String) -> String { "/\(service)/\(name)" }

    package var description: String { self.path }
}

/// The HTTP/JSON mapping of an RPC, declared in `schema/` with the `(sessions.api.http)` option.
package struct HTTPRoute: Sendable, Hashable {
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    package var method: String
    /// A path template such as `/api/sessions/{session_id}/complete`.
    package var pathTemplate: String
    /// `*` when the whole request message is the body, empty when there is no body.
    package var body: String
    /// The response field (proto name) that is the REST `data`; the others become `metadata`.
    /// Empty: the whole response is `data`.
    package var responseBody: String
    /// The HTTP status of a successful reply (200 unless the schema says otherwise).
    package var successStatus: Int
    package var rpc: RPCMethod

    package init(method: String, pathTemplate: String, body: String, responseBody: String = "", successStatus: Int, rpc: RPCMethod) {
        self.method = method
        self.pathTemplate = pathTemplate
        self.body = body
        self.responseBody = responseBody
        self.successStatus = successStatus
        self.rpc = rpc
    }
}

/// A protobuf field as the JSON mapping sees it.
package struct JSONFieldName: Sendable, Hashable {
    package var number: Int
    /// The name in the .proto file, e.g. `session_id`.
    package var protoName: String
    /// The lowerCamelCase JSON name, e.g. `sessionId`.
    package var jsonName: String

    package init(number: Int, protoName: String, jsonName: String) {
        self.number = number
        self.protoName = protoName
        self.jsonName = jsonName
    }
}
