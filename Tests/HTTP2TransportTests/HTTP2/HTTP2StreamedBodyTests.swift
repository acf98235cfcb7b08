import Foundation
import HTTPMessages
import HTTP2Transport
import TestSupport
import Testing

/// A streamed (non-gRPC) body over h2, as nghttp (nghttp2's client, installed by the test set-up)
/// sees its frames: a finished producer ends the stream, a failed one resets it.
@Suite("HTTP/2 streamed bodies")
struct HTTP2StreamedBodyTests {
    @Test("a producer that finishes: DATA, then END_STREAM; one that fails mid-stream: RST_STREAM INTERNAL_ERROR, no END_STREAM")
    func producerFailureWhenStreamingOverHTTP2() async throws {
        try await HTTP1ServerTests.withServer(service: StreamingService()) { server, _ in
            let finished = try await Self.received(from: "http://127.0.0.1:\(server.localPort)/finishing")
            #expect(finished.contains { $0.contains("DATA frame") && $0.contains("END_STREAM") }, "\(finished)")
            #expect(!finished.contains { $0.contains("RST_STREAM") }, "\(finished)")

            let failed = try await Self.received(from: "http://127.0.0.1:\(server.localPort)/failing")
            #expect(failed.contains { $0.contains("RST_STREAM frame") && $0.contains("error_code=INTERNAL_ERROR") }, "\(failed)")
            #expect(!failed.contains { $0.contains("END_STREAM") }, "\(failed)")
        }
    }

    /// The frames nghttp received for one GET (prior knowledge, within 20 s), each as nghttp
    /// describes it: its `[time] recv … frame` line and the lines under it (flags, error code).
    /// nghttp runs off the cooperative pool, which the server under test needs.
    private static func received(from url: String) async throws -> [String] {
        let output = try await runCommand("/usr/bin/nghttp", ["-nv", "--timeout=20", url]).output
        return output.components(separatedBy: "\n[").filter { $0.contains("] recv ") && $0.contains(" frame <") }
    }
}

/// `/finishing` streams "a" and "bc"; `/failing` streams "a", then fails.
private struct StreamingService: HTTPService {
    func respond(to request: HTTPRequest) async -> HTTPResponse {
        let fails = request.path == "/failing"
        return HTTPResponse(status: 200, headers: [("content-type", "text/plain")], stream: HTTPBodyStream { write in
            try await write(Array("a".utf8))
            if fails { throw CancellationError() }
            try await write(Array("bc".utf8))
        })
    }
}
