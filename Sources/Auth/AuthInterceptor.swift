import Foundation
import RPCCore
import ServiceErrors

/// Checks the bearer token of every call to a protected service, once, before the handler, and
/// records the caller in the call context. Health and reflection are public.
package struct AuthInterceptor: RPCInterceptor {
    package static let publicServices: Set<String> = [
        "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
    ]

    private let verifier: JWTVerifier
    private let rateLimiter: RateLimiter?
    private let now: @Sendable () -> Date

    package init(verifier: JWTVerifier, rateLimiter: RateLimiter? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        self.verifier = verifier
        self.rateLimiter = rateLimiter
        self.now = now
    }

    package func applies(to method: RPCMethod) -> Bool {
        !Self.publicServices.contains(method.service)
    }

    package func intercept(_ context: inout CallContext) throws(ServiceError) {
        guard let header = context.metadata["authorization"] else {
            throw ServiceError(.unauthenticated, "missing bearer token (authorization: Bearer <JWT>)")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw ServiceError(.unauthenticated, "the authorization header must be 'Bearer <JWT>'")
        }
        let claims = try self.verifier.verify(String(parts[1]).trimmingCharacters(in: .whitespaces), now: self.now())
        context.caller = Caller(subject: claims.subject, role: claims.role, org: claims.org)
        guard let decision = self.rateLimiter?.check(role: claims.role, org: claims.org, subject: claims.subject) else {
            return
        }
        // Advertised both ways (IETF RateLimit fields; the gateway copies them to HTTP headers).
        switch decision {
        case .allowed(let remaining, let limit):
            var headers = context.response.headers
            headers.add("ratelimit-limit", String(limit))
            headers.add("ratelimit-remaining", String(remaining))
            context.response.headers = headers
        case .limited(let retryAfter, let limit):
            let seconds = max(1, Int(retryAfter.rounded(.up)))
            var trailers = context.response.trailers
            trailers.add("retry-after", String(seconds))
            trailers.add("ratelimit-limit", String(limit))
            trailers.add("ratelimit-remaining", "0")
            context.response.trailers = trailers
            throw ServiceError(.resourceExhausted, "rate limit exceeded for \(claims.role) \(claims.subject); retry in \(seconds) s")
        }
    }
}
