import Foundation
import HTTPMessages
import Logging
import ProtoJSON
import ProtoWire
import RPCCore
import ServiceErrors

/// The REST/JSON front door: each documented `/api/…` request becomes one RPC call through an
/// `RPCChannel` (in-process or remote), and the reply becomes the documented envelope.
///
/// Checks run in the documented order: route, authentication, body syntax; visibility, role,
/// field values and state are the RPC's to decide.
package struct RESTGateway: HTTPService {
    private let channel: any RPCChannel
    private let routes: RESTRouteTable
    private let openAPIDocument: [UInt8]
    /// Checks credentials before a malformed body is reported (authentication comes first);
    /// nil when the RPC side is remote and checks them itself.
    private let authenticator: (any RPCInterceptor)?
    private let cors: CORSPolicy
    /// The Prometheus text exposition for `/metrics`, when the server exports metrics.
    private let metrics: (@Sendable () -> [UInt8])?
    private let logger: Logger
    /// Every request at info (else at debug).
    private let accessLog: Bool

    package init(
        channel: any RPCChannel,
        bindings: [HTTPBinding],
        openAPIDocument: String,
        authenticator: (any RPCInterceptor)?,
        cors: CORSPolicy = CORSPolicy(),
        metrics: (@Sendable () -> [UInt8])? = nil,
        logger: Logger,
        accessLog: Bool = false
    ) {
        self.accessLog = accessLog
        self.channel = channel
        self.routes = RESTRouteTable(bindings)
        self.openAPIDocument = Array(openAPIDocument.utf8)
        self.authenticator = authenticator
        self.cors = cors
        self.metrics = metrics
        self.logger = logger
    }

    package func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch self.handle(request) {
        case .response(let response): response
        case .pending(let work): await work()
        }
    }

    /// Everything that needs no waiting happens here, on the connection's thread: routing, body
    /// checks, and calls the RPC side can answer at once (cache hits); the rest is `pending`.
    package func handle(_ request: HTTPRequest) -> HTTPOutcome {
        let requestID = RequestIDs.requestID(request.header("x-request-id"))
        let started = ContinuousClock.now
        switch self.serve(request, requestID: requestID) {
        case .response(var response):
            self.finish(&response, request: request, requestID: requestID, started: started)
            return .response(response)
        case .pending(let work):
            return .pending {
                var response = await work()
                self.finish(&response, request: request, requestID: requestID, started: started)
                return response
            }
        }
    }

    /// Before a body is read: requests for no route, and requests whose credentials the route's
    /// authentication refuses, are answered now, so an unauthenticated client never makes the
    /// server hold its body.
    package func admit(_ request: HTTPRequest) -> HTTPResponse? {
        let target = RequestTarget(request.target)
        guard !target.malformed, case .found(let binding, _) = self.routes.match(method: request.method, segments: target.segments)
        else {
            // A malformed target, a fixed route (`/healthz` takes no body), OPTIONS, no such route
            // or method: the answer does not depend on the body, so it is given now.
            guard case .response(let response) = self.handle(request) else { return nil }
            return response
        }
        guard let authenticator = self.authenticator, authenticator.applies(to: binding.route.rpc) else { return nil }
        let requestID = RequestIDs.requestID(request.header("x-request-id"))
        var context = CallContext(
            method: binding.route.rpc, metadata: Self.metadata(request, requestID: requestID), requestID: requestID
        )
        do {
            try authenticator.intercept(&context)
            return nil
        } catch {
            var response = self.errorResponse(error)
            response.headers += Self.headers(from: context.response)
            self.finish(&response, request: request, requestID: requestID, started: .now)
            return response
        }
    }

    /// Adds what every reply carries: the request ID and, for allowed origins, CORS headers; and
    /// counts it (by method and status, for `/metrics`). In place, so the headers are not copied.
    private func finish(_ response: inout HTTPResponse, request: HTTPRequest, requestID: String, started: ContinuousClock.Instant) {
        RESTMetrics.shared.record(method: request.method, status: response.status, duration: .now - started)
        response.headers.append(("x-request-id", requestID))
        if request.method != "OPTIONS" {
            response.headers += self.cors.responseHeaders(origin: request.header("origin"))
        }
        self.logger.log(
            level: self.accessLog ? .info : .debug,
            "request",
            metadata: ["protocol": "http", "request_id": "\(requestID)", "method": "\(request.method)",
                "path": "\(request.path)", "status": "\(response.status)",
                "duration_ms": "\((.now - started).millisecondsText)", "peer": "\(request.peer ?? "")"]
        )
    }

    private func serve(_ request: HTTPRequest, requestID: String) -> HTTPOutcome {
        let target = RequestTarget(request.target)
        if target.malformed {
            return .response(self.errorResponse(
                ServiceError(.invalidArgument, "the request path or query is not valid percent-encoded UTF-8")))
        }
        if let fixed = self.fixedRoute(request, target) { return .response(fixed) }
        switch self.routes.match(method: request.method, segments: target.segments) {
        case .notFound:
            return .response(self.errorResponse(ServiceError(.notFound, "no route for \(request.method) \(request.path)")))
        case .wrongMethod(let allowed):
            if request.method == "OPTIONS" { return .response(self.options(request, allowed: allowed)) }
            var response = self.errorResponse(
                ServiceError(.unimplemented, "\(request.method) is not allowed on \(request.path); allowed: \(allowed.joined(separator: ", "))")
            )
            response.status = 405
            response.headers.append(("allow", allowed.joined(separator: ", ")))
            return .response(response)
        case .found(let binding, let parameters):
            return self.call(binding, parameters: parameters, request: request, target: target, requestID: requestID)
        }
    }

    /// `/openapi.json`, the health checks and `/metrics`: public, outside the schema's routes.
    private func fixedRoute(_ request: HTTPRequest, _ target: RequestTarget) -> HTTPResponse? {
        guard target.segments.count == 1 else { return nil }
        let contentType: String
        let body: () -> [UInt8]
        switch target.segments[0] {
        case "openapi.json": (contentType, body) = ("application/json; charset=utf-8", { self.openAPIDocument })
        case "healthz", "readyz": (contentType, body) = ("application/json; charset=utf-8", { Array(#"{"status":"ok"}"#.utf8) })
        case "metrics":
            guard let metrics = self.metrics else { return nil }
            (contentType, body) = ("text/plain; version=0.0.4; charset=utf-8", metrics)
        default: return nil
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            var response = self.errorResponse(ServiceError(.unimplemented, "\(request.method) is not allowed on \(request.path); allowed: GET"))
            response.status = 405
            response.headers.append(("allow", "GET, HEAD"))
            return response
        }
        return HTTPResponse(status: 200, headers: [("content-type", contentType)], body: body())
    }

    /// `OPTIONS`: the allowed methods, and the CORS preflight answer for allowed origins.
    private func options(_ request: HTTPRequest, allowed: [String]) -> HTTPResponse {
        let methods = allowed + ["OPTIONS"]
        var headers: [(name: String, value: String)] = [("allow", methods.joined(separator: ", "))]
        if request.header("access-control-request-method") != nil {
            headers += self.cors.preflightHeaders(origin: request.header("origin"), methods: methods)
        }
        return HTTPResponse(status: 204, headers: headers)
    }

    // MARK: Calls

    private func call(
        _ binding: HTTPBinding,
        parameters: [(field: JSONFieldName, value: String)],
        request: HTTPRequest,
        target: RequestTarget,
        requestID: String
    ) -> HTTPOutcome {
        var options = CallOptions(metadata: Self.metadata(request, requestID: requestID))
        options.peer = request.peer
        let responseMetadata = ResponseMetadata()
        options.responseMetadata = responseMetadata

        let message: any ProtoMessage
        do {
            message = try self.requestMessage(binding, parameters: parameters, request: request, target: target)
        } catch let bodyError {
            // Authentication is checked before the body: a client without valid credentials
            // learns nothing from how its body is judged.
            if let authenticator = self.authenticator, authenticator.applies(to: binding.route.rpc) {
                var context = CallContext(method: binding.route.rpc, metadata: options.metadata, requestID: requestID)
                do {
                    try authenticator.intercept(&context)
                } catch {
                    var response = self.errorResponse(error)
                    response.headers += Self.headers(from: context.response)
                    return .response(response)
                }
            }
            return .response(self.failure(bodyError, request: request, requestID: requestID))
        }

        if binding.route.rpc.kind.serverStreams {
            let channel = self.channel
            let options = options
            return .pending {
                do {
                    return try await EventStream.respond(
                        binding, request: message.serializedBytes(), channel: channel, options: options,
                        headers: Self.headers(from: responseMetadata)
                    )
                } catch {
                    return self.callFailure(error, request: request, requestID: requestID, metadata: responseMetadata)
                }
            }
        }
        do {
            switch try self.channel.unaryImmediately(binding.route.rpc, request: message, options: options) {
            case .message(let reply):
                return .response(try self.success(binding, reply: binding.response(reply), metadata: responseMetadata))
            case .reply(let reply):
                return .response(try self.success(binding, reply: binding.response(reply), metadata: responseMetadata))
            case .pending(let work):
                return .pending {
                    do {
                        let reply = try binding.response(try await work())
                        return try self.success(binding, reply: reply, metadata: responseMetadata)
                    } catch {
                        return self.callFailure(error, request: request, requestID: requestID, metadata: responseMetadata)
                    }
                }
            }
        } catch {
            return .response(self.callFailure(error, request: request, requestID: requestID, metadata: responseMetadata))
        }
    }

    /// The documented success reply for an RPC's reply.
    private func success(_ binding: HTTPBinding, reply decoded: any ProtoJSONMessage, metadata: ResponseMetadata)
        throws(ServiceError) -> HTTPResponse
    {
        // Room for what `finish` adds (the request ID), so the array is allocated once.
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(4)
        headers.append(("content-type", "application/json; charset=utf-8"))
        if binding.route.successStatus == 201, let location = self.location(binding, reply: decoded) {
            headers.append(("location", location))
        }
        headers += Self.headers(from: metadata)
        return HTTPResponse(
            status: binding.route.successStatus,
            headers: headers,
            body: RESTEnvelope.success(decoded, bodyField: binding.responseBodyField)
        )
    }

    /// A failed call: the error envelope with the RPC's response metadata (rate-limit fields).
    private func callFailure(_ error: any Error, request: HTTPRequest, requestID: String, metadata: ResponseMetadata)
        -> HTTPResponse
    {
        var response = self.failure(error, request: request, requestID: requestID)
        response.headers += Self.headers(from: metadata)
        if response.status == 429, !response.headers.contains(where: { $0.name == "retry-after" }) {
            response.headers.append(("retry-after", "1"))
        }
        return response
    }

    /// Headers and metadata the RPC side sees: credentials, idempotency key and request ID.
    private static func metadata(_ request: HTTPRequest, requestID: String) -> Metadata {
        var metadata = Metadata(capacity: 3)
        if let authorization = request.header("authorization") { metadata.add("authorization", authorization) }
        if let key = request.header("idempotency-key") { metadata.add("idempotency-key", key) }
        metadata.add("x-request-id", requestID)
        return metadata
    }

    /// The RPC's response metadata (rate-limit fields, `retry-after`) as HTTP headers.
    private static func headers(from metadata: ResponseMetadata) -> [(name: String, value: String)] {
        (metadata.headers.entries + metadata.trailers.entries).compactMap { entry in
            guard case .text(let text) = entry.value else { return nil }
            return (entry.key, text)
        }
    }

    /// Merges path parameters, the query string (GET) or the JSON body (other methods) into the
    /// request message; throws `invalidArgument` naming every offending field.
    private func requestMessage(
        _ binding: HTTPBinding,
        parameters: [(field: JSONFieldName, value: String)],
        request: HTTPRequest,
        target: RequestTarget
    ) throws -> any ProtoMessage {
        var context = JSONDecodingContext(valuesAreText: binding.route.body.isEmpty)
        var members: [JSONMember] = []
        func isPathName(_ name: String) -> Bool {
            parameters.contains { $0.field.jsonName == name || $0.field.protoName == name }
        }
        if binding.route.body == "*" {
            for parameter in target.query {
                context.reject(parameter.name, "query parameters are not accepted by \(binding.route.method) \(binding.route.pathTemplate)")
            }
            if !request.body.isEmpty {
                guard Self.isJSON(request.header("content-type")) else {
                    throw HTTPLevelError(
                        status: 415,
                        codeName: "UNSUPPORTED_MEDIA_TYPE",
                        error: ServiceError(
                            .invalidArgument,
                            "the body must be application/json, not \(request.header("content-type") ?? "untyped")"
                        )
                    )
                }
                let body: JSONValue
                do {
                    body = try JSONParser.parse(request.body)
                } catch {
                    throw ServiceError(.invalidArgument, "the body is not valid JSON: \(error)", cause: error)
                }
                guard case .object(let bodyMembers) = body else {
                    throw ServiceError(.invalidArgument, "the body must be a JSON object, not \(body.kindDescription)")
                }
                for member in bodyMembers {
                    if isPathName(member.key) {
                        context.reject(member.key, "is given by the path, not the body")
                    } else {
                        members.append(member)
                    }
                }
            }
        } else {
            var grouped: [String: [String]] = [:]
            var order: [String] = []
            for parameter in target.query {
                if grouped[parameter.name] == nil { order.append(parameter.name) }
                grouped[parameter.name, default: []].append(parameter.value)
            }
            for name in order {
                let values = grouped[name]!
                if isPathName(name) {
                    context.reject(name, "is given by the path, not the query")
                } else if values.count > 1 {
                    context.reject(name, "is given more than once")
                } else {
                    members.append(JSONMember(name, .string(values[0])))
                }
            }
        }
        for parameter in parameters {
            members.append(JSONMember(parameter.field.jsonName, .string(parameter.value)))
        }
        let message = binding.request(members, context: &context)
        if let error = context.error { throw error }
        return message
    }

    /// `application/json`, optionally with `charset=utf-8`.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard parts.first == "application/json" else { return false }
        return parts.dropFirst().allSatisfy { !$0.hasPrefix("charset=") || $0 == "charset=utf-8" || $0 == "charset=\"utf-8\"" }
    }

    /// Where a created resource can be read: the GET route under the create route's path.
    private func location(_ binding: HTTPBinding, reply: any ProtoJSONMessage) -> String? {
        guard let read = self.routes.readRoute(under: binding.route.pathTemplate),
            let id = reply.stringValue(ofField: read.field), !id.isEmpty
        else { return nil }
        return read.template.replacingOccurrences(of: "{\(read.field)}", with: Self.percentEncodedSegment(id))
    }

    private static func percentEncodedSegment(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let scalar = UnicodeScalar(byte)
            if byte < 0x80, scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) || "-._~".unicodeScalars.contains(scalar) {
                result.unicodeScalars.append(scalar)
            } else {
                result += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return result
    }

    // MARK: Errors

    private func failure(_ error: any Error, request: HTTPRequest, requestID: String) -> HTTPResponse {
        if let error = error as? HTTPLevelError {
            return .error(error.error, status: error.status, codeName: error.codeName)
        }
        let serviceError = ServiceError(wrapping: error)
        if serviceError.code == .internal || serviceError.code == .unknown || serviceError.code == .dataLoss {
            self.logger.error(
                "request failed",
                metadata: ["request_id": "\(requestID)", "method": "\(request.method)", "path": "\(request.path)",
                    "error": "\(serviceError)", "cause": "\(serviceError.cause.map { "\($0)" } ?? "-")"]
            )
        }
        return self.errorResponse(serviceError)
    }

    private func errorResponse(_ error: ServiceError) -> HTTPResponse {
        .error(error)
    }
}

/// A gateway error whose HTTP status is not its code's usual one (415 for a wrong media type), with
/// its own code name in the envelope; gRPC clients of the same call would see `error.code`.
private struct HTTPLevelError: Error {
    var status: Int
    var codeName: String
    var error: ServiceError
}
