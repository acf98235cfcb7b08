import ServiceErrors

/// Runs before every handler of the services it applies to, on the transport's thread, and may
/// reject the call or enrich its context (e.g. authentication sets `CallContext.caller`).
/// Transports run the interceptors on the call's own context, in place: when one throws, the
/// call is refused and its handler never runs, and what earlier ones set may remain in it.
package protocol RPCInterceptor: Sendable {
    /// Whether this interceptor applies to `method` (public services are exempt from auth).
    func applies(to method: RPCMethod) -> Bool
    func intercept(_ context: inout CallContext) throws(ServiceError)
}
