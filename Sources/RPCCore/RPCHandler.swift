/// A method's server-side implementation over serialized messages.
///
/// Generated code builds these from a typed service protocol; transports and the in-process
/// channel call them without knowing any message type.
package enum RPCHandler: Sendable {
    case unary(@Sendable (_ request: [UInt8], _ context: CallContext) async throws -> [UInt8])
    case serverStreaming(
        @Sendable (_ request: [UInt8], _ responses: RPCMessageSink, _ context: CallContext) async throws -> Void
    )
    case clientStreaming(@Sendable (_ requests: RPCMessageSource, _ context: CallContext) async throws -> [UInt8])
    case bidirectionalStreaming(
        @Sendable (_ requests: RPCMessageSource, _ responses: RPCMessageSink, _ context: CallContext) async throws
            -> Void
    )
}

/// A method and its implementation, ready to register with a router.
package struct RPCRoute: Sendable {
    package var method: RPCMethod
    package var handler: RPCHandler

    package init(method: RPCMethod, handler: RPCHandler) {
        self.method = method
        self.handler = handler
    }
}

/// Produces the request messages of a client-streaming or bidirectional call.
package typealias RPCRequestProducer = @Sendable (_ requests: RPCMessageSink) async throws -> Void

/// What a client needs to call a remote (or in-process) service.
///
/// Implementations throw `ServiceError` for every failed call.
package protocol RPCChannel: Sendable {
    func unary(_ method: RPCMethod, request: [UInt8], options: CallOptions) async throws -> [UInt8]
    func serverStreaming(
        _ method: RPCMethod,
        request: [UInt8],
        options: CallOptions,
        onResponse: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws
    func clientStreaming(
        _ method: RPCMethod,
        options: CallOptions,
        requests: @escaping RPCRequestProducer
    ) async throws -> [UInt8]
    func bidirectionalStreaming(
        _ method: RPCMethod,
        options: CallOptions,
        requests: @escaping RPCRequestProducer,
        onResponse: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws
}
