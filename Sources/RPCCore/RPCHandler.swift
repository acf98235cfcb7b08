import ProtoWire
import ServiceErrors

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
///
/// A route is copied on every call (into the stream, into dispatch), so its parts sit behind one
/// reference: a copy costs one retain, not one per part. Routes are built once, at start-up.
package struct RPCRoute: Sendable {
    private final class Parts: Sendable {
        let method: RPCMethod
        let handler: RPCHandler
        let interceptors: [any RPCInterceptor]
        let immediate: (@Sendable (_ request: [UInt8], _ context: CallContext) throws -> [UInt8]?)?
        let immediateMessage: (@Sendable (_ request: any ProtoMessage, _ context: CallContext) throws -> (any ProtoMessage)?)?
        let metrics: CallMetrics

        init(
            method: RPCMethod,
            handler: RPCHandler,
            interceptors: [any RPCInterceptor],
            immediate: (@Sendable ([UInt8], CallContext) throws -> [UInt8]?)?,
            immediateMessage: (@Sendable (any ProtoMessage, CallContext) throws -> (any ProtoMessage)?)?,
            metrics: CallMetrics
        ) {
            self.method = method
            self.handler = handler
            self.interceptors = interceptors
            self.immediate = immediate
            self.immediateMessage = immediateMessage
            self.metrics = metrics
        }
    }

    private var parts: Parts

    package var method: RPCMethod { self.parts.method }
    package var handler: RPCHandler { self.parts.handler }
    /// Run in order before the handler, once per call (authentication, rate limits); callers of
    /// a route run them with `prepare` and pass the prepared context on.
    package var interceptors: [any RPCInterceptor] { self.parts.interceptors }
    /// For a unary method: the reply at once, without suspending (e.g. from a cache), or nil when
    /// the call must take `handler`. Transports call it on their own thread, so it must not block.
    package var immediate: (@Sendable (_ request: [UInt8], _ context: CallContext) throws -> [UInt8]?)? {
        self.parts.immediate
    }
    /// The same answer for callers in this process, message in and message out: no encoding.
    package var immediateMessage: (@Sendable (_ request: any ProtoMessage, _ context: CallContext) throws -> (any ProtoMessage)?)? {
        self.parts.immediateMessage
    }
    /// Calls and their durations, recorded by whoever runs the route.
    package var metrics: CallMetrics { self.parts.metrics }

    package init(method: RPCMethod, handler: RPCHandler) {
        self.parts = Parts(
            method: method, handler: handler, interceptors: [], immediate: nil, immediateMessage: nil,
            metrics: .rpc(method.path)
        )
    }

    /// The route with `interceptor` run before its handler, if it applies to this method.
    package func intercepted(by interceptor: any RPCInterceptor) -> RPCRoute {
        guard interceptor.applies(to: self.method) else { return self }
        var route = self
        route.parts = Parts(
            method: self.method, handler: self.handler, interceptors: self.interceptors + [interceptor],
            immediate: self.immediate, immediateMessage: self.immediateMessage, metrics: self.metrics
        )
        return route
    }

    /// Gives a unary route its immediate answer (see `immediate`) from one typed function, for
    /// remote callers (bytes) and in-process ones (messages) alike.
    package mutating func answerImmediately<Request: ProtoMessage, Response: ProtoMessage>(
        with answer: @escaping @Sendable (Request, CallContext) throws -> Response?
    ) {
        self.parts = Parts(
            method: self.method,
            handler: self.handler,
            interceptors: self.interceptors,
            immediate: { bytes, context in try answer(Request(decodingRequest: bytes), context)?.serializedBytes() },
            immediateMessage: { message, context in
                let request = try (message as? Request) ?? Request(decodingRequest: message.serializedBytes())
                return try answer(request, context)
            },
            metrics: self.metrics
        )
    }

    /// Runs the interceptors: rejects the call or fills in its context.
    package func prepare(_ context: inout CallContext) throws(ServiceError) {
        for interceptor in self.parts.interceptors { try interceptor.intercept(&context) }
    }
}

/// Produces the request messages of a client-streaming or bidirectional call.
package typealias RPCRequestProducer = @Sendable (_ requests: RPCMessageSink) async throws -> Void

/// A unary call's reply when it was available at once, or the work that will produce it.
package enum RPCImmediateReply: Sendable {
    /// The reply message itself, from an in-process handler (never encoded).
    case message(any ProtoMessage)
    case reply([UInt8])
    case pending(@Sendable () async throws -> [UInt8])
}

/// What a client needs to call a remote (or in-process) service.
///
/// Implementations throw `ServiceError` for every failed call.
package protocol RPCChannel: Sendable {
    func unary(_ method: RPCMethod, request: [UInt8], options: CallOptions) async throws -> [UInt8]
    /// The unary call's reply without suspending when the callee can give it at once (an
    /// in-process cache hit); otherwise the work to await. Errors found at once are thrown.
    func unaryImmediately(_ method: RPCMethod, request: any ProtoMessage, options: CallOptions) throws -> RPCImmediateReply
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

extension RPCChannel {
    package func unaryImmediately(_ method: RPCMethod, request: any ProtoMessage, options: CallOptions) throws -> RPCImmediateReply {
        let bytes = request.serializedBytes()
        return .pending { try await self.unary(method, request: bytes, options: options) }
    }
}
