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

    package static let grpc = CallHeaders(timeout: "grpc-timeout", encoding: "grpc-encoding", acceptEncoding: "grpc-accept-encoding")
    package static let connectStreaming = CallHeaders(
        timeout: "connect-timeout-ms", encoding: "connect-content-encoding", acceptEncoding: "connect-accept-encoding")
    package static let connectUnary = CallHeaders(
        timeout: "connect-timeout-ms", encoding: "content-encoding", acceptEncoding: "accept-encoding")

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
