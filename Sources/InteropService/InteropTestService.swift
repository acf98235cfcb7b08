import RPCCore
import ServiceErrors

/// `grpc.testing.TestService` as the gRPC interop test descriptions specify the server side:
/// payloads of the requested sizes, echoed status and metadata, compression on request.
package struct InteropTestService: TestServiceProvider {
    package init() {}

    /// The routes to serve; `UnimplementedCall` is left out so the router answers UNIMPLEMENTED.
    package var interopRoutes: [RPCRoute] {
        self.routes.filter { $0.method != TestServiceMethods.unimplementedCall }
    }

    package func emptyCall(_ request: Empty, context: CallContext) async throws -> Empty {
        Self.echoMetadata(context)
        return Empty()
    }

    package func unaryCall(_ request: SimpleRequest, context: CallContext) async throws -> SimpleResponse {
        Self.echoMetadata(context)
        if request.expectCompressed?.value == true && !context.requestCompressed {
            throw ServiceError(.invalidArgument, "expected a compressed request")
        }
        try Self.echoStatus(request.responseStatus)
        if let compressed = request.responseCompressed?.value {
            context.response.compress = compressed
        }
        var response = SimpleResponse()
        response.payload = Self.payload(size: request.responseSize)
        return response
    }

    package func cacheableUnaryCall(_ request: SimpleRequest, context: CallContext) async throws -> SimpleResponse {
        try await self.unaryCall(request, context: context)
    }

    package func streamingOutputCall(
        _ request: StreamingOutputCallRequest,
        responses: RPCResponseWriter<StreamingOutputCallResponse>,
        context: CallContext
    ) async throws {
        Self.echoMetadata(context)
        try await Self.respond(to: request, with: responses)
    }

    package func streamingInputCall(
        _ requests: RPCRequestStream<StreamingInputCallRequest>,
        context: CallContext
    ) async throws -> StreamingInputCallResponse {
        Self.echoMetadata(context)
        var total = 0
        for try await request in requests {
            total += request.payload?.body.count ?? 0
        }
        var response = StreamingInputCallResponse()
        response.aggregatedPayloadSize = Int32(total)
        return response
    }

    package func fullDuplexCall(
        _ requests: RPCRequestStream<StreamingOutputCallRequest>,
        responses: RPCResponseWriter<StreamingOutputCallResponse>,
        context: CallContext
    ) async throws {
        Self.echoMetadata(context)
        for try await request in requests {
            try await Self.respond(to: request, with: responses)
        }
    }

    package func halfDuplexCall(
        _ requests: RPCRequestStream<StreamingOutputCallRequest>,
        responses: RPCResponseWriter<StreamingOutputCallResponse>,
        context: CallContext
    ) async throws {
        Self.echoMetadata(context)
        var all: [StreamingOutputCallRequest] = []
        for try await request in requests { all.append(request) }
        for request in all { try await Self.respond(to: request, with: responses) }
    }

    package func unimplementedCall(_ request: Empty, context: CallContext) async throws -> Empty {
        throw ServiceError(.unimplemented, "UnimplementedCall is not implemented")
    }

    // MARK: Helpers

    private static func respond(
        to request: StreamingOutputCallRequest,
        with responses: RPCResponseWriter<StreamingOutputCallResponse>
    ) async throws {
        try self.echoStatus(request.responseStatus)
        for parameters in request.responseParameters {
            if parameters.intervalUs > 0 {
                try await Task.sleep(for: .microseconds(Int64(parameters.intervalUs)))
            }
            var response = StreamingOutputCallResponse()
            response.payload = self.payload(size: parameters.size)
            try await responses.send(response)
        }
    }

    /// "Echo Status": a request carrying `response_status` ends the call with it.
    private static func echoStatus(_ status: EchoStatus?) throws {
        guard let status, status.code != 0 else { return }
        let code = ServiceError.Code(grpcStatus: Int(status.code)) ?? .unknown
        throw ServiceError(code, status.message)
    }

    /// "Echo Metadata": initial metadata back as headers, the -bin one back as trailers.
    private static func echoMetadata(_ context: CallContext) {
        if let initial = context.metadata["x-grpc-test-echo-initial"] {
            var headers = context.response.headers
            headers.add("x-grpc-test-echo-initial", initial)
            context.response.headers = headers
        }
        if let trailing = context.metadata.binary("x-grpc-test-echo-trailing-bin") {
            var trailers = context.response.trailers
            trailers.add("x-grpc-test-echo-trailing-bin", binary: trailing)
            context.response.trailers = trailers
        }
    }

    private static func payload(size: Int32) -> Payload {
        var payload = Payload()
        payload.body = [UInt8](repeating: 0, count: Int(max(0, size)))
        return payload
    }
}
