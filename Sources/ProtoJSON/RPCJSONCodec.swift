import ProtoWire
import RPCCore
import ServiceErrors

/// A method's messages in protobuf's canonical JSON mapping (not the REST envelope's): what an RPC
/// protocol carrying JSON (Connect's `application/json`) needs to turn a request into the binary
/// message the handler takes, and the binary reply into JSON. protogen emits one per method.
package struct RPCJSONCodec: Sendable {
    package let method: RPCMethod
    private let requestFromJSON: @Sendable ([UInt8]) throws(ServiceError) -> [UInt8]
    private let responseToJSON: @Sendable ([UInt8]) throws(ServiceError) -> [UInt8]
    private let requestToJSON: @Sendable ([UInt8]) throws(ServiceError) -> [UInt8]
    private let responseFromJSON: @Sendable ([UInt8]) throws(ServiceError) -> [UInt8]

    package init<Request: ProtoJSONMessage, Response: ProtoJSONMessage>(
        _ method: RPCMethod,
        request: Request.Type,
        response: Response.Type
    ) {
        self.method = method
        self.requestFromJSON = { json throws(ServiceError) in try Request(canonicalJSONBytes: json).serializedBytes() }
        self.responseToJSON = { bytes throws(ServiceError) in try Response(decodingReply: bytes).canonicalJSONBytes() }
        self.requestToJSON = { bytes throws(ServiceError) in try Request(decodingRequest: bytes).canonicalJSONBytes() }
        self.responseFromJSON = { json throws(ServiceError) in try Response(canonicalJSONBytes: json).serializedBytes() }
    }

    /// A client's side: the JSON of a binary request.
    package func requestJSON(fromBinary bytes: [UInt8]) throws(ServiceError) -> [UInt8] {
        try self.requestToJSON(bytes)
    }

    /// A client's side: the binary message of a JSON reply.
    package func responseBinary(fromJSON json: [UInt8]) throws(ServiceError) -> [UInt8] {
        try self.responseFromJSON(json)
    }

    /// The binary request message for a JSON request; `invalidArgument` naming every offending field.
    package func request(fromJSON json: [UInt8]) throws(ServiceError) -> [UInt8] {
        try self.requestFromJSON(json)
    }

    /// The JSON of a binary reply.
    package func response(toJSON bytes: [UInt8]) throws(ServiceError) -> [UInt8] {
        try self.responseToJSON(bytes)
    }
}
