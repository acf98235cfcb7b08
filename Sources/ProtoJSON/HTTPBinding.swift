import ProtoWire
import RPCCore
import ServiceErrors

/// A REST route with the JSON mapping of its messages; protogen emits one per `(sessions.api.http)`
/// option, so the gateway needs no per-endpoint code.
///
/// A class: a request passes its route's binding around several times, and a copy of the whole
/// (a dozen strings, arrays and closures) would retain each.
package final class HTTPBinding: Sendable {
    package let route: HTTPRoute
    /// The request's fields, for binding path and query parameters by name.
    package let requestFields: [JSONFieldName]
    /// The response's fields.
    package let responseFields: [JSONFieldName]
    /// The number of the response field that is the REST `data` (0: the whole response).
    package let responseBodyField: Int
    private let decodeRequest: @Sendable ([JSONMember], inout JSONDecodingContext) -> any ProtoMessage
    private let decodeResponse: @Sendable ([UInt8]) throws(ServiceError) -> any ProtoJSONMessage
    /// The reply message as its own type: a type check, not a run-time conformance lookup.
    private let castResponse: @Sendable (any ProtoMessage) -> (any ProtoJSONMessage)?

    package init<Request: ProtoJSONMessage, Response: ProtoJSONMessage>(
        _ route: HTTPRoute,
        request: Request.Type,
        response: Response.Type
    ) {
        self.route = route
        self.requestFields = Request.jsonFields
        self.responseFields = Response.jsonFields
        self.responseBodyField = Response.jsonFields.first { $0.protoName == route.responseBody }?.number ?? 0
        self.decodeRequest = { members, context in
            Request(jsonMembers: members, path: "", context: &context)
        }
        self.decodeResponse = { bytes throws(ServiceError) in try Response(decodingReply: bytes) }
        self.castResponse = { $0 as? Response }
    }

    /// The request message from JSON members (body, path and query merged); problems go to
    /// `context`.
    package func request(_ members: [JSONMember], context: inout JSONDecodingContext) -> any ProtoMessage {
        self.decodeRequest(members, &context)
    }

    /// The reply decoded, ready to be written as JSON.
    package func response(_ bytes: [UInt8]) throws(ServiceError) -> any ProtoJSONMessage {
        try self.decodeResponse(bytes)
    }

    /// A reply message from an in-process call, ready to be written as JSON.
    package func response(_ message: any ProtoMessage) throws(ServiceError) -> any ProtoJSONMessage {
        if let json = self.castResponse(message) { return json }
        return try self.decodeResponse(message.serializedBytes())
    }
}
