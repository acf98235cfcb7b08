/// Which browser origins may call the API (CORS); none unless configured.
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
    func allowedOrigin(_ origin: String?) -> String? {
        guard let origin else { return nil }
        if self.origins.contains(origin) { return origin }
        return self.anyOrigin ? "*" : nil
    }

    static let allowedHeaders = "authorization, content-type, idempotency-key, x-request-id"
    static let exposedHeaders = "location, retry-after, ratelimit-limit, ratelimit-remaining, x-request-id, www-authenticate"

    /// Headers for an actual (non-preflight) response to an allowed origin.
    func responseHeaders(origin: String?) -> [(name: String, value: String)] {
        guard let allowed = self.allowedOrigin(origin) else { return [] }
        return [
            ("access-control-allow-origin", allowed), ("vary", "origin"),
            ("access-control-expose-headers", Self.exposedHeaders),
        ]
    }

    /// Headers for a preflight (`OPTIONS` with `Access-Control-Request-Method`).
    func preflightHeaders(origin: String?, methods: [String]) -> [(name: String, value: String)] {
        guard let allowed = self.allowedOrigin(origin) else { return [] }
        return [
            ("access-control-allow-origin", allowed), ("vary", "origin"),
            ("access-control-allow-methods", methods.joined(separator: ", ")),
            ("access-control-allow-headers", Self.allowedHeaders), ("access-control-max-age", "600"),
        ]
    }
}
