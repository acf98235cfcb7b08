/// What a handler knows about the call it serves, beyond the request message.
///
/// A call's context is copied on its way (into its stream, into dispatch, into the handler), so
/// its fields sit behind one reference: a copy costs one retain, not one per field (copies and
/// destroys of the ten-reference struct were about 4 % of a gRPC GetSession in
/// `tools/bench/profile.sh grpc`). Changing a copy that shares its fields copies them first.
package struct CallContext: Sendable {
    private struct Fields: Sendable {
        var method: RPCMethod
        var metadata: Metadata
        var deadline: ContinuousClock.Instant?
        var requestID: String
        var peer: String?
        var requestCompressed = false
        let response: ResponseMetadata
        var caller: Caller?
    }

    /// Changed only through a context that holds the only reference to it (copy on write, as
    /// `Array` is), so no two threads ever touch one `Storage` while either writes.
    private final class Storage: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var storage: Storage

    /// The fields, for changing: copied first when another context shares them.
    private var fields: Fields {
        get { self.storage.fields }
        _modify {
            if !isKnownUniquelyReferenced(&self.storage) { self.storage = Storage(self.storage.fields) }
            yield &self.storage.fields
        }
    }

    package var method: RPCMethod {
        get { self.storage.fields.method }
        _modify { yield &self.fields.method }
    }
    /// Request metadata (custom headers), as sent by the client.
    package var metadata: Metadata {
        get { self.storage.fields.metadata }
        _modify { yield &self.fields.metadata }
    }
    /// When the client stops waiting; nil when it set no deadline.
    package var deadline: ContinuousClock.Instant? {
        get { self.storage.fields.deadline }
        _modify { yield &self.fields.deadline }
    }
    /// The request ID used in logs (`X-Request-Id` or generated).
    package var requestID: String {
        get { self.storage.fields.requestID }
        _modify { yield &self.fields.requestID }
    }
    /// The client's address, e.g. `127.0.0.1:53122`, when known.
    package var peer: String? {
        get { self.storage.fields.peer }
        _modify { yield &self.fields.peer }
    }
    /// Whether the request's messages arrived compressed (`grpc-encoding` other than identity).
    package var requestCompressed: Bool {
        get { self.storage.fields.requestCompressed }
        _modify { yield &self.fields.requestCompressed }
    }
    /// What the handler sends back besides messages.
    package var response: ResponseMetadata { self.storage.fields.response }
    /// Who is calling, set by the authentication interceptor; nil on public methods.
    package var caller: Caller? {
        get { self.storage.fields.caller }
        _modify { yield &self.fields.caller }
    }

    /// Which box holds the fields: lets tests see whether a change copied them.
    package var storageIdentity: ObjectIdentifier { ObjectIdentifier(self.storage) }

    package init(
        method: RPCMethod,
        metadata: Metadata = Metadata(),
        deadline: ContinuousClock.Instant? = nil,
        requestID: String = "",
        peer: String? = nil,
        response: ResponseMetadata = ResponseMetadata()
    ) {
        self.storage = Storage(Fields(
            method: method, metadata: metadata, deadline: deadline, requestID: requestID, peer: peer,
            response: response
        ))
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
