/// What a handler knows about the call it serves, beyond the request message.
package struct CallContext: Sendable {
    package var method: RPCMethod
    /// Request metadata (custom headers), as sent by the client.
    package var metadata: Metadata
    /// When the client stops waiting; nil when it set no deadline.
    package var deadline: ContinuousClock.Instant?
    /// The request ID used in logs (`X-Request-Id` or generated).
    package var requestID: String
    /// The client's address, e.g. `127.0.0.1:53122`, when known.
    package var peer: String?
    /// Whether the request's messages arrived compressed (`grpc-encoding` other than identity).
    package var requestCompressed: Bool = false
    /// What the handler sends back besides messages.
    package let response: ResponseMetadata
    /// Who is calling, set by the authentication interceptor; nil on public methods.
    package var caller: Caller?

    package init(
        method: RPCMethod,
        metadata: Metadata = Metadata(),
        deadline: ContinuousClock.Instant? = nil,
        requestID: String = "",
        peer: String? = nil,
        response: ResponseMetadata = ResponseMetadata()
    ) {
        self.response = response
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.requestID = requestID
        self.peer = peer
    }
}

/// Per-call options on the client side.
package struct CallOptions: Sendable {
    package var metadata: Metadata
    /// How long the call may take, sent as `grpc-timeout`.
    package var timeout: Duration?
    /// Compress request messages with gzip.
    package var compressRequests = false
    /// When set, receives the response headers and trailers of the call.
    package var responseMetadata: ResponseMetadata?
    /// The original client's address, for calls made on its behalf (the in-process gateway).
    package var peer: String?

    package init(metadata: Metadata = Metadata(), timeout: Duration? = nil) {
        self.metadata = metadata
        self.timeout = timeout
    }
}

/// An authenticated caller, as the token said: subject, role and organization.
package struct Caller: Sendable, Equatable {
    package var subject: String
    package var role: String
    package var org: String

    package init(subject: String, role: String, org: String) {
        self.subject = subject
        self.role = role
        self.org = org
    }
}
