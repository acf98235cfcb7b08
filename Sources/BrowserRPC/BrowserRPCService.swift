import HTTP2Transport
import HTTPMessages
import Logging
import ProtoJSON
import RPCCore
import ServiceErrors

/// gRPC-Web and the Connect protocol, on the port that serves gRPC and REST: each request to a
/// method's path (`/package.Service/Method`) becomes one call through an `RPCChannel` — in process
/// by default, so these protocols meet the same router, interceptors (authentication, rate limits),
/// deadlines, handlers, metrics and errors as gRPC and REST. Every other request goes to `fallback`
/// (the REST gateway).
///
/// Unary and server-streaming methods are served here, over HTTP/1.1 and h2 alike. Client and
/// bidirectional streaming need a full-duplex stream: over h2 with the proto codec the transport
/// runs them as it runs gRPC calls (`HTTP2ConnectionHandler`); here they are refused.
package struct BrowserRPCService: HTTPService {
    private let channel: any RPCChannel
    private let methods: [String: RPCMethod]
    private let codecs: [String: RPCJSONCodec]
    private let authenticator: (any RPCInterceptor)?
    private let cors: CORSPolicy
    private let fallback: any HTTPService
    /// The largest request message, after base64 and decompression.
    private let maxMessageSize: Int
    private let logger: Logger
    private let accessLog: Bool

    package init(
        channel: any RPCChannel,
        methods: [RPCMethod],
        codecs: [RPCJSONCodec],
        authenticator: (any RPCInterceptor)?,
        cors: CORSPolicy,
        fallback: any HTTPService,
        maxMessageSize: Int,
        logger: Logger,
        accessLog: Bool = false
    ) {
        self.channel = channel
        self.methods = Dictionary(methods.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        self.codecs = Dictionary(codecs.map { ($0.method.path, $0) }, uniquingKeysWith: { first, _ in first })
        self.authenticator = authenticator
        self.cors = cors
        self.fallback = fallback
        self.maxMessageSize = maxMessageSize
        self.logger = logger
        self.accessLog = accessLog
    }

    package func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch self.handle(request) {
        case .response(let response): response
        case .pending(let work): await work()
        }
    }

    package func handle(_ request: HTTPRequest) -> HTTPOutcome {
        let kind = self.classify(request)
        guard case .call(let proto) = kind else {
            if let answer = self.answerWithoutCall(kind, request) { return .response(answer) }
            return self.fallback.handle(request)
        }
        let started = ContinuousClock.now
        let call: PreparedCall
        do {
            call = try self.prepare(proto, request)
        } catch {
            // Authentication comes before the body's syntax (as over REST): a client without valid
            // credentials learns nothing from how its request is judged.
            let refused = self.authenticationRefusal(proto, request, requestID: error.requestID) ?? error
            return .response(self.finished(refused.response, request, started: started, proto: proto, requestID: refused.requestID))
        }
        if call.method.kind.serverStreams {
            return .response(self.finished(self.streamingResponse(call), request, started: started, call: call))
        }
        do {
            switch try self.channel.unaryImmediately(call.method, requestBytes: call.request, options: call.options) {
            case .message(let message):
                return .response(self.finished(self.unaryReply(message.serializedBytes(), call), request, started: started, call: call))
            case .reply(let reply):
                return .response(self.finished(self.unaryReply(reply, call), request, started: started, call: call))
            case .pending(let work):
                return .pending {
                    let response: HTTPResponse
                    do {
                        response = self.unaryReply(try await work(), call)
                    } catch {
                        response = self.failure(error, call)
                    }
                    return self.finished(response, request, started: started, call: call)
                }
            }
        } catch {
            return .response(self.finished(self.failure(error, call), request, started: started, call: call))
        }
    }

    /// When the head is complete, before the body: requests whose answer does not depend on the
    /// body, and calls whose credentials the authenticator refuses, are answered now (the body is
    /// discarded, never buffered).
    package func admit(_ request: HTTPRequest) -> HTTPResponse? {
        let kind = self.classify(request)
        guard case .call(let proto) = kind else {
            if let answer = self.answerWithoutCall(kind, request) { return answer }
            return self.fallback.admit(request)
        }
        let requestID = RequestIDs.requestID(request.header("x-request-id"))
        guard let method = self.methods[String(request.path)] else {
            // No such method: the answer does not depend on the body.
            let refused = RefusedCall(proto: proto, error: Self.unknownMethod(request.path), metadata: nil, requestID: requestID)
            return self.finished(refused.response, request, started: .now, proto: proto, requestID: requestID)
        }
        if method.kind.clientStreams {
            // Refused from its head: a client holding its request stream open (a full-duplex
            // reflection client) learns it now instead of waiting for a reply that never comes.
            let refused = RefusedCall(proto: proto, error: Self.requestStreamsRefusal(method), metadata: nil, requestID: requestID)
            return self.finished(refused.response, request, started: .now, proto: proto, requestID: requestID)
        }
        guard let refused = self.authenticationRefusal(proto, request, requestID: requestID) else { return nil }
        return self.finished(refused.response, request, started: .now, proto: proto, requestID: requestID)
    }

    /// The refusal of a call whose credentials the authenticator rejects (before any body is
    /// read, or before a malformed request is judged); nil when they pass or none are needed.
    private func authenticationRefusal(_ proto: BrowserProtocol, _ request: HTTPRequest, requestID: String) -> RefusedCall? {
        guard let method = self.methods[String(request.path)], let authenticator = self.authenticator,
            authenticator.applies(to: method),
            let metadata = try? Self.metadata(request, requestID: requestID)
        else { return nil }
        var context = CallContext(method: method, metadata: metadata, requestID: requestID)
        do {
            try authenticator.intercept(&context)
            return nil
        } catch {
            return RefusedCall(proto: proto, error: error, metadata: context.response, requestID: requestID)
        }
    }

    /// The protocol of a request; a GET of a method with side effects is not allowed (Connect
    /// GET is for methods marked `NO_SIDE_EFFECTS`).
    private func classify(_ request: HTTPRequest) -> BrowserProtocol.Request {
        let kind = BrowserProtocol.classify(method: request.method, path: request.path, contentType: request.header("content-type"))
        if kind == .call(.connectGet), let method = self.methods[String(request.path)], !method.hasNoSideEffects {
            return .methodNotAllowed
        }
        return kind
    }

    // MARK: Requests that are not calls

    private func answerWithoutCall(_ kind: BrowserProtocol.Request, _ request: HTTPRequest) -> HTTPResponse? {
        switch kind {
        case .call, .other:
            // Every REST request (`.other`) comes through here: nothing is looked up or allocated
            // for it. (Calls do not: the callers take them first.)
            return nil
        case .preflight:
            let allowed = self.allowedMethods(request.path)
            var headers: [(name: String, value: String)] = [("allow", allowed.joined(separator: ", "))]
            if request.header("access-control-request-method") != nil {
                headers += self.cors.preflightHeaders(origin: request.header("origin"), methods: allowed)
            }
            return HTTPResponse(status: 204, headers: headers)
        case .methodNotAllowed:
            let allowed = self.allowedMethods(request.path)
            var response = HTTPResponse.json(
                405,
                String(decoding: ConnectWire.errorJSON(ServiceError(
                    .unimplemented,
                    "\(request.method) is not allowed on \(request.path); allowed: \(allowed.joined(separator: ", "))"
                )), as: UTF8.self)
            )
            response.headers.append(("allow", allowed.joined(separator: ", ")))
            return self.withCORS(response, request)
        case .unsupportedMediaType:
            var response = HTTPResponse.json(
                415,
                String(decoding: ConnectWire.errorJSON(ServiceError(
                    .unimplemented,
                    "content-type '\(request.header("content-type") ?? "")' is not served; Connect takes application/proto or application/json, gRPC-Web application/grpc-web[-text][+proto]"
                )), as: UTF8.self)
            )
            response.headers.append(("accept-post", "application/proto, application/json, application/connect+proto, application/connect+json, application/grpc-web+proto, application/grpc-web-text+proto"))
            return self.withCORS(response, request)
        }
    }

    /// POST always; GET too for side-effect-free methods (Connect GET).
    private func allowedMethods(_ path: Substring) -> [String] {
        self.methods[String(path)]?.hasNoSideEffects == true ? ["GET", "POST", "OPTIONS"] : ["POST", "OPTIONS"]
    }

    // MARK: Calls

    /// A request ready to call: the method, its request message in binary, and how to answer.
    struct PreparedCall: Sendable {
        var proto: BrowserProtocol
        var method: RPCMethod
        /// Set for JSON calls: turns the binary reply into JSON.
        var codec: RPCJSONCodec?
        var request: [UInt8]
        var options: CallOptions
        var responseMetadata: ResponseMetadata
        var requestID: String
        /// Whether replies may be gzipped (the client said it accepts gzip).
        var gzipReplies: Bool
    }

    /// A call refused before it ran: answered in its protocol's form.
    struct RefusedCall: Error {
        var proto: BrowserProtocol
        var error: ServiceError
        var metadata: ResponseMetadata?
        var requestID: String

        var response: HTTPResponse {
            BrowserReply.failure(self.error, proto: self.proto, metadata: self.metadata)
        }
    }

    private func prepare(_ proto: BrowserProtocol, _ request: HTTPRequest) throws(RefusedCall) -> PreparedCall {
        let requestID = RequestIDs.requestID(request.header("x-request-id"))
        do {
            return try self.prepareCall(proto, request, requestID: requestID)
        } catch {
            throw RefusedCall(proto: proto, error: error, metadata: nil, requestID: requestID)
        }
    }

    private func prepareCall(_ proto: BrowserProtocol, _ request: HTTPRequest, requestID: String) throws(ServiceError)
        -> PreparedCall
    {
        if let version = request.header("connect-protocol-version"), proto.isConnect, version != "1" {
            throw ServiceError(.invalidArgument, "connect-protocol-version must be 1, not '\(version)'")
        }
        let path = String(request.path)
        guard let method = self.methods[path] else { throw Self.unknownMethod(request.path) }
        guard !method.kind.clientStreams else { throw Self.requestStreamsRefusal(method) }
        var options = CallOptions(metadata: try Self.metadata(request, requestID: requestID))
        options.peer = request.peer
        let responseMetadata = ResponseMetadata()
        options.responseMetadata = responseMetadata

        let names = proto.callHeaders
        if let timeout = request.header(names.timeout) { options.timeout = try names.duration(timeout) }
        let encoding = try request.header(names.encoding).flatMap { value throws(ServiceError) in try names.compression(value) }
        let gzipReplies = request.header(names.acceptEncoding).map(names.acceptsGzip) ?? false
        let message: [UInt8]
        var codec = BrowserProtocol.Codec.proto
        switch proto {
        case .grpcWeb(let text):
            let body = text ? try GRPCWebWire.decodeText(request.body) : request.body
            message = try Envelope.singleMessage(in: body, encoding: encoding, limit: self.maxMessageSize)
        case .connectUnary(let bodyCodec):
            guard method.kind == .unary else {
                throw ServiceError(.unimplemented, "\(method.name) streams its replies: use application/connect+\(bodyCodec.rawValue)")
            }
            codec = bodyCodec
            message = try self.bounded(request.body, encoding: encoding)
        case .connectGet:
            guard method.hasNoSideEffects else {
                throw ServiceError(.unimplemented, "\(method.name) has side effects: call it with POST")
            }
            guard method.kind == .unary else {
                throw ServiceError(.unimplemented, "\(method.name) streams its replies: GET serves unary methods only")
            }
            let query = try ConnectWire.getQuery(request.target)
            codec = query.encoding == "json" ? .json : .proto
            message = try self.bounded(query.message, encoding: query.compression)
        case .connectStreaming(let bodyCodec):
            guard method.kind == .serverStreaming else {
                throw ServiceError(.unimplemented, "\(method.name) is unary: use application/\(bodyCodec.rawValue)")
            }
            codec = bodyCodec
            message = try Envelope.singleMessage(in: request.body, encoding: encoding, limit: self.maxMessageSize)
        }

        var jsonCodec: RPCJSONCodec?
        var binary = message
        if codec == .json {
            guard let found = self.codecs[path] else {
                throw ServiceError(.unimplemented, "\(method.path) has no JSON mapping here; use the proto codec")
            }
            jsonCodec = found
            binary = try found.request(fromJSON: message)
        }
        return PreparedCall(
            proto: proto, method: method, codec: jsonCodec, request: binary, options: options,
            responseMetadata: responseMetadata, requestID: requestID, gzipReplies: gzipReplies
        )
    }

    private static func unknownMethod(_ path: Substring) -> ServiceError {
        ServiceError(.unimplemented, BrowserProtocol.isMethodPath(path) ? "unknown method \(path)" : "malformed method path '\(path)'")
    }

    private static func requestStreamsRefusal(_ method: RPCMethod) -> ServiceError {
        ServiceError(
            .unimplemented,
            "\(method.name) streams requests: over gRPC-Web and Connect that takes h2 and the proto codec (a full-duplex stream), or call it with gRPC"
        )
    }

    /// A whole-body message (Connect unary), decompressed when declared, at most the limit.
    private func bounded(_ body: [UInt8], encoding: String?) throws(ServiceError) -> [UInt8] {
        let message = encoding == "gzip" ? try Gzip.decompressMessage(body, limit: self.maxMessageSize) : body
        guard message.count <= self.maxMessageSize else {
            throw ServiceError(.resourceExhausted, "the request message is \(message.count) bytes; the limit is \(self.maxMessageSize)")
        }
        return message
    }

    /// Headers that become call metadata: everything but the protocols' own and the browser's.
    private static func metadata(_ request: HTTPRequest, requestID: String) throws(ServiceError) -> Metadata {
        var metadata = Metadata()
        for field in request.headers {
            // One hash per header, not a string comparison per name.
            if Self.protocolHeaders.contains(field.name) { continue }
            let name = field.name
            if name.hasPrefix(":") || name.hasPrefix("sec-") || name.hasPrefix("access-control-") { continue }
            if name.hasSuffix("-bin") {
                guard let bytes = GRPCWire.decodeBinaryHeader(field.value) else {
                    throw ServiceError(.invalidArgument, "metadata '\(name)' is not valid base64")
                }
                metadata.add(name, binary: bytes)
            } else {
                metadata.add(name, field.value)
            }
        }
        metadata.add("x-request-id", requestID)
        return metadata
    }

    /// The protocols' own headers and what browsers add: never call metadata.
    private static let protocolHeaders: Set<String> = [
        "content-type", "content-length", "content-encoding", "accept-encoding", "accept", "accept-language",
        "connect-protocol-version", "connect-timeout-ms", "connect-content-encoding", "connect-accept-encoding",
        "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "x-grpc-web", "x-user-agent", "user-agent", "host",
        "connection", "keep-alive", "te", "transfer-encoding", "upgrade", "origin", "referer", "cookie",
        "cache-control", "pragma", "priority", "dnt", "x-request-id",
    ]

    // MARK: Replies

    private func unaryReply(_ reply: [UInt8], _ call: PreparedCall) -> HTTPResponse {
        do {
            return BrowserReply.unary(try call.codec?.response(toJSON: reply) ?? reply, call: call)
        } catch {
            return self.failure(error, call)
        }
    }

    private func failure(_ error: any Error, _ call: PreparedCall) -> HTTPResponse {
        let serviceError = ServiceError(wrapping: error)
        if serviceError.code == .internal || serviceError.code == .unknown || serviceError.code == .dataLoss {
            self.logger.error(
                "call failed",
                metadata: ["request_id": "\(call.requestID)", "method": "\(call.method.path)", "error": "\(serviceError)",
                    "cause": "\(serviceError.cause.map { "\($0)" } ?? "-")"]
            )
        }
        return BrowserReply.failure(serviceError, proto: call.proto, metadata: call.responseMetadata)
    }

    /// Headers now; the body is the messages as the call sends them, then the status (gRPC-Web's
    /// trailer frame, Connect's end-of-stream message). The call runs inside the body's producer,
    /// so it is cancelled when the client goes away, and each message waits for the client to
    /// take the previous one (the transport's backpressure): nothing queues here.
    private func streamingResponse(_ call: PreparedCall) -> HTTPResponse {
        let channel = self.channel
        let logger = self.logger
        let stream = HTTPBodyStream { write in
            let frame = BrowserReply.streamFramer(call)
            var failure: ServiceError?
            do {
                // The call ends before `produce` returns, so `write` never outlives it.
                try await withoutActuallyEscaping(write) { write in
                    try await channel.serverStreaming(call.method, request: call.request, options: call.options) { reply in
                        let message = try call.codec?.response(toJSON: reply) ?? reply
                        try await write(frame(.message(message)))
                    }
                }
            } catch {
                failure = ServiceError(wrapping: error)
                if failure?.code == .internal {
                    logger.error("stream failed", metadata: ["request_id": "\(call.requestID)", "method": "\(call.method.path)", "error": "\(error)"])
                }
            }
            try Task.checkCancellation()
            try await write(frame(.end(failure, call.responseMetadata)))
        }
        return BrowserReply.streamHead(call, stream: stream)
    }

    /// What every reply carries: the request ID, CORS headers for allowed origins (exposing its
    /// metadata headers too); and the access log line.
    private func finished(_ response: HTTPResponse, _ request: HTTPRequest, started: ContinuousClock.Instant, call: PreparedCall)
        -> HTTPResponse
    {
        self.finished(response, request, started: started, proto: call.proto, requestID: call.requestID)
    }

    private func finished(
        _ response: HTTPResponse,
        _ request: HTTPRequest,
        started: ContinuousClock.Instant,
        proto: BrowserProtocol?,
        requestID: String?
    ) -> HTTPResponse {
        var response = self.withCORS(response, request)
        let requestID = requestID ?? RequestIDs.requestID(request.header("x-request-id"))
        if !response.headers.contains(where: { $0.name == "x-request-id" }) { response.headers.append(("x-request-id", requestID)) }
        self.logger.log(
            level: self.accessLog ? .info : .debug,
            "request",
            metadata: ["protocol": "\(proto?.name ?? "http")", "request_id": "\(requestID)", "method": "\(request.method)",
                "path": "\(request.path)", "status": "\(response.status)",
                "duration_ms": "\((.now - started).millisecondsText)",
                "peer": "\(request.peer ?? "")"]
        )
        return response
    }

    private func withCORS(_ response: HTTPResponse, _ request: HTTPRequest) -> HTTPResponse {
        // Most requests come from no browser: nothing to add, nothing to list.
        guard self.cors.allowedOrigin(request.header("origin")) != nil else { return response }
        var response = response
        let standard = ["content-type", "content-length", "content-encoding"]
        let own = response.headers.map(\.name).filter { !standard.contains($0) && !$0.hasPrefix("access-control-") }
        response.headers += self.cors.responseHeaders(origin: request.header("origin"), alsoExposed: own)
        return response
    }
}
