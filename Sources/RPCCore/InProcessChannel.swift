import ProtoWire
import ServiceErrors

/// Calls a router's handlers directly: no socket, no framing, same interceptors and errors.
///
/// The REST gateway uses it by default, so a REST request and a gRPC call meet the same
/// authentication, handlers and status codes.
package struct InProcessChannel: RPCChannel {
    private let router: RPCRouter

    package init(router: RPCRouter) {
        self.router = router
    }

    private func context(_ method: RPCMethod, _ options: CallOptions) -> CallContext {
        CallContext(
            method: method,
            metadata: options.metadata,
            deadline: options.timeout.map { .now + $0 },
            requestID: options.metadata["x-request-id"] ?? "",
            peer: options.peer,
            // The caller's sink, when it gave one, receives the handler's metadata as it is set.
            response: options.responseMetadata ?? ResponseMetadata()
        )
    }

    /// After a call: records its metrics. (The handler's response metadata already went to the
    /// caller's sink, which is the call's own; rate-limit trailers come with errors too.)
    private static func finish(
        _ route: RPCRoute,
        started: ContinuousClock.Instant,
        error: (any Error)?
    ) {
        route.metrics.record(error: error.map { ServiceError(wrapping: $0).code }, duration: .now - started)
    }

    /// Runs `body` with the handler's prepared context, then finishes the call.
    private func call<Result: Sendable>(
        _ method: RPCMethod,
        _ options: CallOptions,
        _ body: @escaping @Sendable (RPCRoute, CallContext) async throws -> Result
    ) async throws -> Result {
        let route = try self.router.route(forPath: method.path)
        var context = self.context(method, options)
        let started = ContinuousClock.now
        do {
            let result = try await self.run(route, &context, options, body)
            Self.finish(route, started: started, error: nil)
            return result
        } catch {
            Self.finish(route, started: started, error: error)
            throw error
        }
    }

    private func run<Result: Sendable>(
        _ route: RPCRoute,
        _ context: inout CallContext,
        _ options: CallOptions,
        _ body: @escaping @Sendable (RPCRoute, CallContext) async throws -> Result
    ) async throws -> Result {
        try route.prepare(&context)
        let prepared = context
        guard let timeout = options.timeout else { return try await body(route, prepared) }
        return try await withThrowingTaskGroup(of: Result.self) { group in
            group.addTask { try await body(route, prepared) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw ServiceError(.deadlineExceeded, "the deadline passed")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private static func mismatch(_ method: RPCMethod) -> ServiceError {
        ServiceError(.unimplemented, "\(method.name) is not a method of this kind")
    }

    package func unary(_ method: RPCMethod, request: [UInt8], options: CallOptions) async throws -> [UInt8] {
        try await self.call(method, options) { route, context in
            guard case .unary(let call) = route.handler else { throw Self.mismatch(method) }
            if let immediate = route.immediate, let reply = try immediate(request, context) { return reply }
            return try await call(request, context)
        }
    }

    /// The reply at once when the route has an immediate answer (a cache hit); otherwise the
    /// handler's work, already authenticated. Calls with a timeout take `unary`, which races the
    /// handler against the deadline.
    package func unaryImmediately(_ method: RPCMethod, request message: any ProtoMessage, options: CallOptions) throws
        -> RPCImmediateReply
    {
        try self.immediately(method, options, request: { message.serializedBytes() }) { route, context in
            try route.immediateMessage?(message, context).map { .message($0) }
        }
    }

    /// The same for a request already encoded (the gRPC-Web and Connect front doors).
    package func unaryImmediately(_ method: RPCMethod, requestBytes request: [UInt8], options: CallOptions) throws
        -> RPCImmediateReply
    {
        try self.immediately(method, options, request: { request }) { route, context in
            try route.immediate?(request, context).map { .reply($0) }
        }
    }

    private func immediately(
        _ method: RPCMethod,
        _ options: CallOptions,
        request: () -> [UInt8],
        answer: (RPCRoute, CallContext) throws -> RPCImmediateReply?
    ) throws -> RPCImmediateReply {
        guard options.timeout == nil else {
            let request = request()
            return .pending { try await self.unary(method, request: request, options: options) }
        }
        let route = try self.router.route(forPath: method.path)
        guard case .unary(let call) = route.handler else { throw Self.mismatch(method) }
        var context = self.context(method, options)
        let started = ContinuousClock.now
        do {
            try route.prepare(&context)
            if let reply = try answer(route, context) {
                Self.finish(route, started: started, error: nil)
                return reply
            }
        } catch {
            Self.finish(route, started: started, error: error)
            throw error
        }
        let prepared = context
        let request = request()
        return .pending {
            do {
                let reply = try await call(request, prepared)
                Self.finish(route, started: started, error: nil)
                return reply
            } catch {
                Self.finish(route, started: started, error: error)
                throw error
            }
        }
    }

    package func serverStreaming(
        _ method: RPCMethod,
        request: [UInt8],
        options: CallOptions,
        onResponse: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        try await self.call(method, options) { route, context in
            guard case .serverStreaming(let call) = route.handler else { throw Self.mismatch(method) }
            try await call(request, RPCMessageSink(onResponse), context)
        }
    }

    package func clientStreaming(
        _ method: RPCMethod,
        options: CallOptions,
        requests: @escaping RPCRequestProducer
    ) async throws -> [UInt8] {
        try await self.call(method, options) { route, context in
            guard case .clientStreaming(let call) = route.handler else { throw Self.mismatch(method) }
            let (source, producer) = Self.pipe(requests)
            async let reply = call(source, context)
            try await producer()
            return try await reply
        }
    }

    package func bidirectionalStreaming(
        _ method: RPCMethod,
        options: CallOptions,
        requests: @escaping RPCRequestProducer,
        onResponse: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        try await self.call(method, options) { route, context in
            guard case .bidirectionalStreaming(let call) = route.handler else { throw Self.mismatch(method) }
            let (source, producer) = Self.pipe(requests)
            async let done: Void = call(source, RPCMessageSink(onResponse), context)
            try await producer()
            try await done
        }
    }

    /// Connects a request producer to a handler's message source.
    private static func pipe(_ requests: @escaping RPCRequestProducer) -> (RPCMessageSource, @Sendable () async throws -> Void) {
        let (stream, continuation) = AsyncThrowingStream<RPCMessageSource.Delivery, any Error>.makeStream()
        let source = RPCMessageSource(stream) { _ in }
        let producer: @Sendable () async throws -> Void = {
            do {
                try await requests(RPCMessageSink { continuation.yield(.init(bytes: $0, size: $0.count)) })
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
                throw error
            }
        }
        return (source, producer)
    }
}
