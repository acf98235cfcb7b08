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
    private let now: @Sendable () -> Date

    package init(verifier: JWTVerifier, now: @escaping @Sendable () -> Date = { Date() }) {
        self.verifier = verifier
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
    }
}
