/// Which browser origins may call the server (CORS), over REST and the browser RPC protocols
/// (gRPC-Web, Connect); none unless configured.
package struct CORSPolicy: Sendable {
    private let origins: Set<String>
    private let anyOrigin: Bool

    /// `origins` as given with `--cors-origins`: exact origins such as `https://app.example.com`,
    /// or `*` for any.
    package init(origins: [String] = []) {
        self.origins = Set(origins.filter { $0 != "*" })
        self.anyOrigin = origins.contains("*")
    }

    package var isEnabled: Bool { self.anyOrigin || !self.origins.isEmpty }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, or nil when not allowed.
    package func allowedOrigin(_ origin: String?) -> String? {
        guard let origin else { return nil }
        if self.origins.contains(origin) { return origin }
        return self.anyOrigin ? "*" : nil
    }

    /// What a browser may send: REST's headers, and those gRPC-Web and Connect clients send.
    static let allowedHeaders = [
        "authorization", "content-type", "idempotency-key", "x-request-id",
        "connect-protocol-version", "connect-timeout-ms", "connect-accept-encoding", "connect-content-encoding",
        "content-encoding", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "x-grpc-web", "x-user-agent",
    ].joined(separator: ", ")
    /// What page scripts may read besides the safelisted headers: REST's, and the status and
    /// encodings of gRPC-Web and Connect (plus, per response, the names of its RPC metadata).
    static let exposedHeaders = [
        "location", "retry-after", "ratelimit-limit", "ratelimit-remaining", "x-request-id", "www-authenticate",
        "grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-encoding", "grpc-accept-encoding",
        "connect-content-encoding", "connect-accept-encoding", "content-encoding",
    ]

    /// Headers for an actual (non-preflight) response to an allowed origin; `alsoExposed` names
    /// this response's own metadata headers.
    package func responseHeaders(origin: String?, alsoExposed: [String] = []) -> [(name: String, value: String)] {
        guard let allowed = self.allowedOrigin(origin) else { return [] }
        var exposed = Self.exposedHeaders
        for name in alsoExposed where !exposed.contains(name) { exposed.append(name) }
        return [
            ("access-control-allow-origin", allowed), ("vary", "origin"),
            ("access-control-expose-headers", exposed.joined(separator: ", ")),
        ]
    }

    /// Headers for a preflight (`OPTIONS` with `Access-Control-Request-Method`).
    package func preflightHeaders(origin: String?, methods: [String]) -> [(name: String, value: String)] {
        guard let allowed = self.allowedOrigin(origin) else { return [] }
        return [
            ("access-control-allow-origin", allowed), ("vary", "origin"),
            ("access-control-allow-methods", methods.joined(separator: ", ")),
            ("access-control-allow-headers", Self.allowedHeaders), ("access-control-max-age", "600"),
        ]
    }
}
