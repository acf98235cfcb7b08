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
    private struct Parts: Sendable {
        var method: RPCMethod
        var handler: RPCHandler
        var interceptors: [any RPCInterceptor] = []
        var immediate: (@Sendable (_ request: [UInt8], _ context: CallContext) throws -> [UInt8]?)?
        var immediateMessage: (@Sendable (_ request: any ProtoMessage, _ context: CallContext) throws -> (any ProtoMessage)?)?
        let metrics: CallMetrics
    }

    /// The one reference a copy retains; changing a part (only while routes are built) boxes anew.
    private final class Box: Sendable {
        let parts: Parts
        init(_ parts: Parts) { self.parts = parts }
    }

    private var box: Box
    /// For building routes; calls read `box.parts` directly (no copy of the whole).
    private var parts: Parts {
        get { self.box.parts }
        set { self.box = Box(newValue) }
    }

    package var method: RPCMethod { self.box.parts.method }
    package var handler: RPCHandler { self.box.parts.handler }
    /// Run in order before the handler, once per call (authentication, rate limits); callers of
    /// a route run them with `prepare` and pass the prepared context on.
    package var interceptors: [any RPCInterceptor] { self.box.parts.interceptors }
    /// For a unary method: the reply at once, without suspending (e.g. from a cache), or nil when
    /// the call must take `handler`. Transports call it on their own thread, so it must not block.
    package var immediate: (@Sendable (_ request: [UInt8], _ context: CallContext) throws -> [UInt8]?)? {
        self.box.parts.immediate
    }
    /// The same answer for callers in this process, message in and message out: no encoding.
    package var immediateMessage: (@Sendable (_ request: any ProtoMessage, _ context: CallContext) throws -> (any ProtoMessage)?)? {
        self.box.parts.immediateMessage
    }
    /// Calls and their durations, recorded by whoever runs the route.
    package var metrics: CallMetrics { self.box.parts.metrics }

    package init(method: RPCMethod, handler: RPCHandler) {
        self.box = Box(Parts(method: method, handler: handler, metrics: .rpc(method.path)))
    }

    /// The route with `interceptor` run before its handler, if it applies to this method.
    package func intercepted(by interceptor: any RPCInterceptor) -> RPCRoute {
        guard interceptor.applies(to: self.method) else { return self }
        var route = self
        route.parts.interceptors.append(interceptor)
        return route
    }

    /// Gives a unary route its immediate answer (see `immediate`) from one typed function, for
    /// remote callers (bytes) and in-process ones (messages) alike. (The reply is an existential
    /// already: a generic `Response?` would be looked up at run time on every call.)
    package mutating func answerImmediately<Request: ProtoMessage>(
        with answer: @escaping @Sendable (Request, CallContext) throws -> (any ProtoMessage)?
    ) {
        var parts = self.parts
        parts.immediate = { bytes, context in try answer(Request(decodingRequest: bytes), context)?.serializedBytes() }
        parts.immediateMessage = { message, context in
            let request = try (message as? Request) ?? Request(decodingRequest: message.serializedBytes())
            return try answer(request, context)
        }
        self.parts = parts
    }

    /// Runs the interceptors: rejects the call or fills in its context.
    package func prepare(_ context: inout CallContext) throws(ServiceError) {
        for interceptor in self.box.parts.interceptors { try interceptor.intercept(&context) }
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
    /// The same for a request already encoded.
    func unaryImmediately(_ method: RPCMethod, requestBytes: [UInt8], options: CallOptions) throws -> RPCImmediateReply
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

    package func unaryImmediately(_ method: RPCMethod, requestBytes: [UInt8], options: CallOptions) throws -> RPCImmediateReply {
        .pending { try await self.unary(method, request: requestBytes, options: options) }
    }
}
