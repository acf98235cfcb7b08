import InteropService
import RPCCore
import ServiceErrors
import Testing

/// The interop client cases, written with our generated client over our HTTP/2 client.
enum SwiftClientInterop {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What the server under test can do: a stock grpcio server cannot see whether a request
    /// arrived compressed, so it cannot answer the compression probe.
    struct Server: Sendable {
        var checksRequestCompression: Bool
    }

    typealias Case = @Sendable (TestServiceClient, UnimplementedServiceClient, Server) async throws -> Void

    static let cases: [(String, Case)] = [
        ("empty_unary", emptyUnary), ("large_unary", largeUnary), ("client_streaming", clientStreaming),
        ("server_streaming", serverStreaming), ("ping_pong", pingPong), ("empty_stream", emptyStream),
        ("custom_metadata", customMetadata), ("status_code_and_message", statusCodeAndMessage),
        ("special_status_message", specialStatusMessage), ("unimplemented_method", unimplementedMethod),
        ("unimplemented_service", unimplementedService), ("timeout_on_sleeping_server", timeoutOnSleepingServer),
        ("cancel_after_begin", cancelAfterBegin), ("cancel_after_first_response", cancelAfterFirstResponse),
        ("client_compressed_unary", clientCompressedUnary), ("server_compressed_unary", serverCompressedUnary),
    ]

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw Failure(description: message()) }
    }

    static func payload(_ size: Int) -> Payload {
        var payload = Payload()
        payload.body = [UInt8](repeating: 0, count: size)
        return payload
    }

    static func outputRequest(sizes: [Int32], payload size: Int = 0) -> StreamingOutputCallRequest {
        var request = StreamingOutputCallRequest()
        request.responseParameters = sizes.map { size in
            var parameters = ResponseParameters()
            parameters.size = size
            return parameters
        }
        if size > 0 { request.payload = self.payload(size) }
        return request
    }

    static func expectStatus(_ code: ServiceError.Code, message: String? = nil, _ call: () async throws -> Void)
        async throws
    {
        do {
            try await call()
        } catch let error as ServiceError {
            try check(error.code == code, "expected \(code.name), got \(error.code.name): \(error.message)")
            if let message { try check(error.message == message, "expected message \(message), got \(error.message)") }
            return
        }
        throw Failure(description: "expected \(code.name), but the call succeeded")
    }

    static let emptyUnary: Case = { client, _, server in
        let response = try await client.emptyCall(Empty())
        try check(response == Empty(), "not an empty Empty")
    }

    static let largeUnary: Case = { client, _, server in
        var request = SimpleRequest()
        request.responseSize = 314_159
        request.payload = payload(271_828)
        let response = try await client.unaryCall(request)
        try check(response.payload?.body.count == 314_159, "body size \(response.payload?.body.count ?? -1)")
    }

    static let clientStreaming: Case = { client, _, server in
        let response = try await client.streamingInputCall { writer in
            for size in [27_182, 8, 1_828, 45_904] {
                var request = StreamingInputCallRequest()
                request.payload = payload(size)
                try await writer.send(request)
            }
        }
        try check(response.aggregatedPayloadSize == 74_922, "aggregated \(response.aggregatedPayloadSize)")
    }

    static let serverStreaming: Case = { client, _, server in
        let sizes = Collector<Int>()
        try await client.streamingOutputCall(outputRequest(sizes: [31_415, 9, 2_653, 58_979])) { response in
            await sizes.append(response.payload?.body.count ?? -1)
        }
        let got = await sizes.values
        try check(got == [31_415, 9, 2_653, 58_979], "sizes \(got)")
    }

    static let pingPong: Case = { client, _, server in
        let (replies, replyContinuation) = AsyncStream<Int>.makeStream()
        let steps: [(Int32, Int)] = [(31_415, 27_182), (9, 8), (2_653, 1_828), (58_979, 45_904)]
        let sizes = Collector<Int>()
        try await client.fullDuplexCall { writer in
            var iterator = replies.makeAsyncIterator()
            for (size, payloadSize) in steps {
                try await writer.send(outputRequest(sizes: [size], payload: payloadSize))
                guard let reply = await iterator.next() else { throw Failure(description: "no reply") }
                try check(reply == Int(size), "reply \(reply) for \(size)")
            }
        } onResponse: { response in
            await sizes.append(response.payload?.body.count ?? -1)
            replyContinuation.yield(response.payload?.body.count ?? -1)
        }
        let got = await sizes.values
        try check(got == [31_415, 9, 2_653, 58_979], "sizes \(got)")
    }

    static let emptyStream: Case = { client, _, server in
        let count = Collector<Int>()
        try await client.fullDuplexCall { _ in } onResponse: { _ in await count.append(1) }
        try check(await count.values.isEmpty, "got responses")
    }

    static let customMetadata: Case = { client, _, server in
        func options() -> CallOptions {
            var options = CallOptions()
            options.metadata.add("x-grpc-test-echo-initial", "test_initial_metadata_value")
            options.metadata.add("x-grpc-test-echo-trailing-bin", binary: [0xAB, 0xAB, 0xAB])
            options.responseMetadata = ResponseMetadata()
            return options
        }
        func verify(_ metadata: ResponseMetadata?) throws {
            try check(metadata?.headers["x-grpc-test-echo-initial"] == "test_initial_metadata_value", "initial")
            try check(metadata?.trailers.binary("x-grpc-test-echo-trailing-bin") == [0xAB, 0xAB, 0xAB], "trailing")
        }
        var request = SimpleRequest()
        request.responseSize = 314_159
        request.payload = payload(271_828)
        let unaryOptions = options()
        _ = try await client.unaryCall(request, options: unaryOptions)
        try verify(unaryOptions.responseMetadata)
        let streamingOptions = options()
        try await client.fullDuplexCall(options: streamingOptions) { writer in
            try await writer.send(outputRequest(sizes: [314_159], payload: 271_828))
        } onResponse: { _ in }
        try verify(streamingOptions.responseMetadata)
    }

    static let statusCodeAndMessage: Case = { client, _, server in
        var status = EchoStatus()
        status.code = 2
        status.message = "test status message"
        var request = SimpleRequest()
        request.responseStatus = status
        try await expectStatus(.unknown, message: "test status message") { _ = try await client.unaryCall(request) }
        var streaming = StreamingOutputCallRequest()
        streaming.responseStatus = status
        let request2 = streaming
        try await expectStatus(.unknown, message: "test status message") {
            try await client.fullDuplexCall { try await $0.send(request2) } onResponse: { _ in }
        }
    }

    static let specialStatusMessage: Case = { client, _, server in
        let text = "\t\ntest with whitespace\r\nand Unicode BMP \u{263A} and non-BMP \u{1F608}\t\n"
        var request = SimpleRequest()
        request.responseStatus = EchoStatus()
        request.responseStatus?.code = 2
        request.responseStatus?.message = text
        try await expectStatus(.unknown, message: text) { _ = try await client.unaryCall(request) }
    }

    static let unimplementedMethod: Case = { client, _, server in
        try await expectStatus(.unimplemented) { _ = try await client.unimplementedCall(Empty()) }
    }

    static let unimplementedService: Case = { _, unimplemented, server in
        try await expectStatus(.unimplemented) { _ = try await unimplemented.unimplementedCall(Empty()) }
    }

    static let timeoutOnSleepingServer: Case = { client, _, server in
        try await expectStatus(.deadlineExceeded) {
            try await client.fullDuplexCall(options: CallOptions(timeout: .milliseconds(1))) { writer in
                var request = StreamingOutputCallRequest()
                request.payload = payload(27_182)
                try await writer.send(request)
                try await Task.sleep(for: .seconds(5))  // keep the call open until the deadline
            } onResponse: { _ in }
        }
    }

    static let cancelAfterBegin: Case = { client, _, server in
        let call = Task {
            try await client.streamingInputCall { _ in try await Task.sleep(for: .seconds(30)) }
        }
        try await Task.sleep(for: .milliseconds(20))
        call.cancel()
        try await expectStatus(.cancelled) { _ = try await call.value }
    }

    static let cancelAfterFirstResponse: Case = { client, _, server in
        let first = AsyncStream<Void>.makeStream()
        let call = Task {
            try await client.fullDuplexCall { writer in
                try await writer.send(outputRequest(sizes: [31_415], payload: 27_182))
                try await Task.sleep(for: .seconds(30))
            } onResponse: { _ in first.continuation.yield() }
        }
        var iterator = first.stream.makeAsyncIterator()
        _ = await iterator.next()
        call.cancel()
        try await expectStatus(.cancelled) { try await call.value }
    }

    static let clientCompressedUnary: Case = { client, _, server in
        func request(_ expect: Bool) -> SimpleRequest {
            var request = SimpleRequest()
            request.responseSize = 314_159
            request.payload = payload(271_828)
            request.expectCompressed = BoolValue()
            request.expectCompressed?.value = expect
            return request
        }
        if server.checksRequestCompression {
            try await expectStatus(.invalidArgument) { _ = try await client.unaryCall(request(true)) }
        }
        var compressed = CallOptions()
        compressed.compressRequests = true
        let response = try await client.unaryCall(request(true), options: compressed)
        try check(response.payload?.body.count == 314_159, "compressed: payload size")
        let plain = try await client.unaryCall(request(false))
        try check(plain.payload?.body.count == 314_159, "plain: payload size")
    }

    static let serverCompressedUnary: Case = { client, _, server in
        for compressed in [true, false] {
            var request = SimpleRequest()
            request.responseSize = 314_159
            request.payload = payload(271_828)
            request.responseCompressed = BoolValue()
            request.responseCompressed?.value = compressed
            let response = try await client.unaryCall(request)
            try check(response.payload?.body.count == 314_159, "response_compressed=\(compressed): payload size")
        }
    }
}

/// Collects values from concurrent callbacks.
actor Collector<Value: Sendable> {
    private(set) var values: [Value] = []

    func append(_ value: Value) {
        self.values.append(value)
    }
}
