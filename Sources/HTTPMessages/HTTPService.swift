import ServiceErrors

/// A plain HTTP request (HTTP/1.1, or HTTP/2 that is not gRPC), fully buffered.
package struct HTTPRequest: Sendable {
    package var method: String
    /// The request target: path and query, e.g. `/api/sessions?limit=5`.
    package var target: String
    /// Header names lower-cased, in arrival order.
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]
    /// The client's address, when known.
    package var peer: String?

    package init(method: String, target: String, headers: [(name: String, value: String)], body: [UInt8], peer: String?) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.peer = peer
    }

    /// The first value of a header; `name` must be lower-case.
    package func header(_ name: String) -> String? {
        self.headers.first { $0.name == name }?.value
    }


    /// The path without the query string.
    package var path: Substring {
        // `?` is ASCII, so its UTF-8 index is a character boundary. Searched over the contiguous
        // bytes (`withUTF8`): through `String.UTF8View`'s indices it was 0.7 % of a REST call
        // over h2.
        var target = self.target
        guard let offset = target.withUTF8({ $0.firstIndex(of: UInt8(ascii: "?")) }) else { return self.target[...] }
        let utf8 = self.target.utf8
        return self.target[..<utf8.index(utf8.startIndex, offsetBy: offset)]
    }
}

/// An HTTP response: a complete body, or a body streamed as it is produced.
package struct HTTPResponse: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]
    /// When set, the body is produced over time (Server-Sent Events) instead of `body`; over
    /// HTTP/1.1 the connection closes when it ends.
    package var stream: HTTPBodyStream?

    package init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    package init(status: Int, headers: [(name: String, value: String)], stream: HTTPBodyStream) {
        self.status = status
        self.headers = headers
        self.body = []
        self.stream = stream
    }

    /// A JSON response with the gateway's content type.
    package static func json(_ status: Int, _ body: String, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        HTTPResponse(
            status: status,
            headers: [("content-type", "application/json; charset=utf-8")] + headers,
            body: Array(body.utf8)
        )
    }
}

/// Produces a streamed body: `produce` writes chunks (each sent at once) until it returns.
/// The transport cancels it when the client goes away, and calls `abandon` instead when the
/// response is dropped before it could start (the client left first), so its resources go too.
package struct HTTPBodyStream: Sendable {
    package typealias Write = @Sendable ([UInt8]) async throws -> Void
    package let produce: @Sendable (_ write: Write) async throws -> Void
    package let abandon: @Sendable () -> Void

    package init(
        _ produce: @escaping @Sendable (_ write: Write) async throws -> Void,
        abandon: @escaping @Sendable () -> Void = {}
    ) {
        self.produce = produce
        self.abandon = abandon
    }
}

/// What a service makes of a request: the response now, or work that finishes it later.
package enum HTTPOutcome: Sendable {
    case response(HTTPResponse)
    case pending(@Sendable () async -> HTTPResponse)
}

/// Serves plain HTTP requests: health checks and the REST gateway.
package protocol HTTPService: Sendable {
    func respond(to request: HTTPRequest) async -> HTTPResponse
    /// Called on the connection's thread: answers at once when nothing needs waiting for, so
    /// such requests cost no task (the default always defers to `respond`).
    func handle(_ request: HTTPRequest) -> HTTPOutcome
    /// Called on the connection's thread when a request's head is complete and a body follows,
    /// before any of the body is read (`request.body` is empty): a response here — no such route,
    /// missing or invalid credentials — answers the request, and its body is discarded, never
    /// buffered. nil: read the body, then `handle` the request. The default admits everything.
    func admit(_ request: HTTPRequest) -> HTTPResponse?
}

extension HTTPService {
    package func handle(_ request: HTTPRequest) -> HTTPOutcome {
        .pending { await self.respond(to: request) }
    }

    package func admit(_ request: HTTPRequest) -> HTTPResponse? { nil }
}

/// Health endpoints only; answers 404 with the error envelope for everything else.
package struct HTTPHealthService: HTTPService {
    package init() {}

    package func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch request.path {
        case "/healthz", "/readyz":
            return .json(200, #"{"status":"ok"}"#)
        default:
            return .error(ServiceError(.notFound, "no route for \(request.method) \(request.path)"))
        }
    }
}
