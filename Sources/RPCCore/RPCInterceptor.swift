import ServiceErrors

/// Runs before every handler of the services it applies to, on the transport's thread, and may
/// reject the call or enrich its context (e.g. authentication sets `CallContext.caller`).
package protocol RPCInterceptor: Sendable {
    /// Whether this interceptor applies to `method` (public services are exempt from auth).
    func applies(to method: RPCMethod) -> Bool
    func intercept(_ context: inout CallContext) throws(ServiceError)
}

extension RPCRoute {
    /// The route with `interceptor` run before its handler.
    package func intercepted(by interceptor: any RPCInterceptor) -> RPCRoute {
        guard interceptor.applies(to: self.method) else { return self }
        @Sendable func prepare(_ context: CallContext) throws(ServiceError) -> CallContext {
            var context = context
            try interceptor.intercept(&context)
            return context
        }
        let handler: RPCHandler
        switch self.handler {
        case .unary(let call):
            handler = .unary { request, context in try await call(request, try prepare(context)) }
        case .serverStreaming(let call):
            handler = .serverStreaming { request, sink, context in try await call(request, sink, try prepare(context)) }
        case .clientStreaming(let call):
            handler = .clientStreaming { requests, context in try await call(requests, try prepare(context)) }
        case .bidirectionalStreaming(let call):
            handler = .bidirectionalStreaming { requests, sink, context in
                try await call(requests, sink, try prepare(context))
            }
        }
        return RPCRoute(method: self.method, handler: handler)
    }
}
