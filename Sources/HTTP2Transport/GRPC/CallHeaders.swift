import ServiceErrors

/// Where a protocol of the gRPC family puts a call's deadline and compression: gRPC and gRPC-Web
/// use `grpc-timeout` and `grpc-(accept-)encoding`; Connect streams `connect-timeout-ms` and
/// `connect-(content|accept)-encoding`; Connect unary calls the same timeout with HTTP's own
/// `content-encoding` and `accept-encoding`. The HTTP/2 transport and the browser protocols'
/// service read them through this one type.
package struct CallHeaders: Sendable {
    package let timeout: String
    package let encoding: String
    package let acceptEncoding: String
    /// The field names this protocol knows and what each means on a call's request, by their
    /// length in bytes (`role(of:)`).
    private let roles: [[(name: String, role: Role)]]

    package static let grpc = CallHeaders(
        timeout: "grpc-timeout", encoding: "grpc-encoding", acceptEncoding: "grpc-accept-encoding", connect: false)
    package static let connectStreaming = CallHeaders(
        timeout: "connect-timeout-ms", encoding: "connect-content-encoding", acceptEncoding: "connect-accept-encoding",
        connect: true)
    package static let connectUnary = CallHeaders(
        timeout: "connect-timeout-ms", encoding: "content-encoding", acceptEncoding: "accept-encoding", connect: true)

    /// What a request field is to the call.
    package enum Role: Sendable {
        case method, path, te, timeout, encoding, acceptEncoding
        /// Connect's `connect-protocol-version` (Connect only).
        case protocolVersion
        /// Part of the protocol and not custom metadata (`content-type`, `user-agent`, …).
        case transport
        /// Any other pseudo-header: read by the transport, not metadata.
        case pseudo
        /// Custom metadata whose value is base64 (`-bin`).
        case binaryMetadata
        case metadata
    }

    private init(timeout: String, encoding: String, acceptEncoding: String, connect: Bool) {
        self.timeout = timeout
        self.encoding = encoding
        self.acceptEncoding = acceptEncoding
        var known: [String: Role] = [:]
        for name in [
            "content-type", "content-length", "grpc-message-type", "user-agent", "host", "connection",
            "accept-encoding", "x-grpc-web", "x-user-agent",
        ] {
            known[name] = .transport
        }
        // The protocol's own names take precedence (Connect unary's `accept-encoding`).
        known[timeout] = .timeout
        known[encoding] = .encoding
        known[acceptEncoding] = .acceptEncoding
        known[":method"] = .method
        known[":path"] = .path
        known["te"] = .te
        if connect { known["connect-protocol-version"] = .protocolVersion }
        var roles = [[(name: String, role: Role)]](repeating: [], count: known.keys.map(\.utf8.count).max()! + 1)
        for (name, role) in known { roles[name.utf8.count].append((name, role)) }
        self.roles = roles
    }

    /// What the request field `name` (lower case, as HTTP/2 requires) is to the call. Known names
    /// are found by length first: a field costs a comparison or two, not one per known name (or
    /// a hash of the name: both measured, in tools/bench/RESULTS.md).
    package func role(of name: String) -> Role {
        let length = name.utf8.count
        if length < self.roles.count {
            for known in self.roles[length] where known.name == name { return known.role }
        }
        if name.hasPrefix(":") { return .pseudo }
        return name.hasSuffix("-bin") ? .binaryMetadata : .metadata
    }

    /// The timeout header's value as a duration.
    package func duration(_ value: String) throws(ServiceError) -> Duration {
        if self.timeout == "grpc-timeout" {
            guard let duration = GRPCWire.timeout(value) else {
                throw ServiceError(.invalidArgument, "malformed grpc-timeout '\(value)'")
            }
            return duration
        }
        guard let duration = ConnectWire.timeout(value) else {
            throw ServiceError(.invalidArgument, "malformed \(self.timeout) '\(value)': 1 to 10 digits of milliseconds")
        }
        return duration
    }

    /// The request's compression: nil for identity, "gzip", else UNIMPLEMENTED naming what is supported.
    package func compression(_ value: String) throws(ServiceError) -> String? {
        guard value != "identity" else { return nil }
        guard value == "gzip" else {
            throw ServiceError(.unimplemented, "unsupported \(self.encoding) '\(value)'; supported: identity, gzip")
        }
        return value
    }

    /// Whether the accept-encoding header's value names gzip.
    package func acceptsGzip(_ value: String) -> Bool {
        GRPCWire.listContains(value, "gzip")
    }
}
