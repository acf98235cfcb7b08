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
    /// Verified tokens, so a repeated token is checked once (nil: verify every time).
    private let cache: VerifiedTokenCache?
    private let now: @Sendable () -> Date

    package init(
        verifier: JWTVerifier,
        rateLimiter: RateLimiter? = nil,
        cache: VerifiedTokenCache? = VerifiedTokenCache(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.verifier = verifier
        self.rateLimiter = rateLimiter
        self.cache = cache
        self.now = now
    }

    /// The token of `Bearer <token>` (scheme case-insensitive, surrounding spaces ignored).
    package static func bearerToken(_ header: String) -> String? {
        let bytes = header.utf8
        guard bytes.count > 7 else { return nil }
        let scheme = bytes.prefix(6).map { $0 | 0x20 }
        guard scheme.elementsEqual("bearer".utf8), bytes[bytes.index(bytes.startIndex, offsetBy: 6)] == UInt8(ascii: " ") else {
            return nil
        }
        let rest = bytes.dropFirst(7).drop { $0 == UInt8(ascii: " ") }
        var end = rest.endIndex
        while end > rest.startIndex, bytes[bytes.index(before: end)] == UInt8(ascii: " ") { end = bytes.index(before: end) }
        guard rest.startIndex < end else { return nil }
        return String(Substring(header.utf8[rest.startIndex..<end]))
    }

    package func applies(to method: RPCMethod) -> Bool {
        !Self.publicServices.contains(method.service)
    }

    package func intercept(_ context: inout CallContext) throws(ServiceError) {
        guard let header = context.metadata["authorization"] else {
            throw ServiceError(.unauthenticated, "missing bearer token (authorization: Bearer <JWT>)")
        }
        let now = self.now()
        let claims: JWTVerifier.Claims
        // Cached by the whole header value: a repeated header needs no parsing either.
        if let cached = self.cache?.claims(for: header, now: now) {
            claims = cached
        } else {
            guard let token = Self.bearerToken(header) else {
                throw ServiceError(.unauthenticated, "the authorization header must be 'Bearer <JWT>'")
            }
            claims = try self.verifier.verify(token, now: now)
            self.cache?.insert(header, claims, validUntil: claims.expiresAt.addingTimeInterval(self.verifier.clockSkew))
        }
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
