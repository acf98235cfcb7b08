import Testing

@testable import HTTP2Transport

/// `CallHeaders.role(of:)` finds known names by their length first; these pin what each protocol
/// makes of every name it knows, of names that share a length with a known one, and of the rest.
@Suite("What a request field is to a call")
struct CallHeadersTests {
    @Test("gRPC: each known name, names of the same length, pseudo-headers and metadata", arguments: [
        (":method", CallHeaders.Role.method), (":path", .path), ("te", .te),
        ("grpc-timeout", .timeout), ("grpc-encoding", .encoding), ("grpc-accept-encoding", .acceptEncoding),
        ("content-type", .transport), ("content-length", .transport), ("grpc-message-type", .transport),
        ("user-agent", .transport), ("host", .transport), ("connection", .transport),
        ("accept-encoding", .transport), ("x-grpc-web", .transport), ("x-user-agent", .transport),
        // Connect's names are plain metadata to gRPC.
        ("connect-protocol-version", .metadata), ("connect-timeout-ms", .metadata),
        // The same length as a known name (13, 10, 2, 4, 7) but not it.
        ("authorization", .metadata), ("grpc-encodinx", .metadata), ("user-agenu", .metadata), ("tf", .metadata),
        ("hosu", .metadata), (":methox", .pseudo),
        (":scheme", .pseudo), (":authority", .pseudo), (":", .pseudo),
        ("trace-bin", .binaryMetadata), ("-bin", .binaryMetadata), ("x-request-id", .metadata), ("", .metadata),
        ("a-much-longer-name-than-any-known-one", .metadata),
    ] as [(String, CallHeaders.Role)])
    func gRPCRoleWhenNamed(_ name: String, _ role: CallHeaders.Role) {
        #expect(CallHeaders.grpc.role(of: name) == role)
    }

    @Test("Connect streams: its own names, and HTTP's accept-encoding stays the transport's", arguments: [
        ("connect-protocol-version", CallHeaders.Role.protocolVersion), ("connect-timeout-ms", .timeout),
        ("connect-content-encoding", .encoding), ("connect-accept-encoding", .acceptEncoding),
        ("accept-encoding", .transport), ("grpc-timeout", .metadata), ("grpc-encoding", .metadata),
        ("connect-protocol-versioo", .metadata), (":path", .path),
    ] as [(String, CallHeaders.Role)])
    func connectStreamingRoleWhenNamed(_ name: String, _ role: CallHeaders.Role) {
        #expect(CallHeaders.connectStreaming.role(of: name) == role)
    }

    @Test("Connect unary: HTTP's content-encoding and accept-encoding are the call's")
    func connectUnaryRoleWhenNamedByHTTP() {
        #expect(CallHeaders.connectUnary.role(of: "content-encoding") == .encoding)
        #expect(CallHeaders.connectUnary.role(of: "accept-encoding") == .acceptEncoding)
        #expect(CallHeaders.connectUnary.role(of: "connect-protocol-version") == .protocolVersion)
    }
}
