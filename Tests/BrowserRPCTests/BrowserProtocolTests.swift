import Foundation
import HTTP2Transport
import Testing

@testable import BrowserRPC

@Suite("browser protocols: telling them apart, and their wire forms")
struct BrowserProtocolTests {
    static let get = "/sessions.v1.SessionService/GetSession"

    @Test("a request is gRPC-Web, Connect or none of them by method, path and content type")
    func classifyWhenRequestArrives() {
        let cases: [(String, String, String?, BrowserProtocol.Request)] = [
            ("POST", Self.get, "application/grpc-web", .call(.grpcWeb(text: false))),
            ("POST", Self.get, "application/grpc-web+proto", .call(.grpcWeb(text: false))),
            ("POST", Self.get, "application/grpc-web-text", .call(.grpcWeb(text: true))),
            ("POST", Self.get, "Application/GRPC-Web-Text+proto; charset=x", .call(.grpcWeb(text: true))),
            ("POST", Self.get, "application/proto", .call(.connectUnary(.proto))),
            ("POST", Self.get, "application/json; charset=utf-8", .call(.connectUnary(.json))),
            ("POST", Self.get, "application/connect+proto", .call(.connectStreaming(.proto))),
            ("POST", Self.get, "application/connect+json", .call(.connectStreaming(.json))),
            ("GET", Self.get + "?encoding=json&message=%7B%7D", nil, .call(.connectGet)),
            ("OPTIONS", Self.get, nil, .preflight),
            ("POST", Self.get, "text/plain", .unsupportedMediaType),
            ("POST", Self.get, nil, .unsupportedMediaType),
            ("PUT", Self.get, "application/json", .methodNotAllowed),
            ("GET", Self.get, "application/grpc-web", .methodNotAllowed),
            // The REST API's paths stay REST's, JSON or not.
            ("POST", "/api/sessions", "application/json", .other),
            ("GET", "/api/sessions/sess_1", nil, .other),
            ("GET", "/openapi.json", nil, .other),
            ("GET", "/healthz", nil, .other),
            ("POST", "/nodot/Method", "application/json", .other),
            ("POST", "/a.b/Method/extra", "application/json", .other),
        ]
        for (method, target, contentType, expected) in cases {
            let path = target.prefix { $0 != "?" }
            #expect(BrowserProtocol.classify(method: method, path: path, contentType: contentType) == expected, "\(method) \(target) \(contentType ?? "-")")
        }
    }

    @Test("the one message of a body: flags, lengths and limits checked")
    func singleMessageWhenBodyIsMalformed() throws {
        let message: [UInt8] = [0x0A, 0x01, 0x78]
        #expect(try Envelope.singleMessage(in: Envelope.encode(message), encoding: nil, limit: 100) == message)
        let empty: [UInt8] = []
        let cases: [([UInt8], String)] = [
            (empty, "no message"),
            ([0, 0, 0], "truncated"),
            (Envelope.encode(message) + Envelope.encode(message), "more"),
            ([0, 0, 0, 0, 9, 1], "truncated"),
            (Envelope.encode(message, flags: 0x80), "unknown flags"),
            (Envelope.encode(message, flags: 0x01), "no compression was declared"),
            (Envelope.encode(Array(repeating: 1, count: 101)), "limit is 100"),
        ]
        for (body, problem) in cases {
            #expect(throws: (any Error).self, "\(problem)") { try Envelope.singleMessage(in: body, encoding: nil, limit: 100) }
            do {
                _ = try Envelope.singleMessage(in: body, encoding: nil, limit: 100)
            } catch {
                #expect(error.message.contains(problem), "\(error.message)")
            }
        }
    }

    @Test("a gzip bomb stops at the limit, and is refused RESOURCE_EXHAUSTED")
    func singleMessageWhenCompressedPastTheLimit() throws {
        let small = Array("hello".utf8)
        let compressed = try gzip(small)
        #expect(try Envelope.singleMessage(in: Envelope.encode(compressed, flags: 1), encoding: "gzip", limit: 100) == small)
        let bomb = try gzip(Array(repeating: 0, count: 8 << 20))
        do {
            _ = try Envelope.singleMessage(in: Envelope.encode(bomb, flags: 1), encoding: "gzip", limit: 1 << 20)
            Issue.record("a bomb was inflated")
        } catch {
            #expect(error.code == .resourceExhausted)
        }
        #expect(throws: (any Error).self) { try Gzip.decompressMessage([1, 2, 3, 4], limit: 100) }
    }

    @Test("grpc-web-text bodies: one base64 text, or several padded pieces, whitespace ignored")
    func decodeTextWhenPiecesArePadded() throws {
        let first = Array("ab".utf8), second = Array("cde".utf8)
        let joined = GRPCWebWire.encodeText(first) + GRPCWebWire.encodeText(second)
        #expect(try GRPCWebWire.decodeText(joined) == first + second)
        #expect(try GRPCWebWire.decodeText(Array("YWJj\r\nZGU=".utf8)) == Array("abcde".utf8))
        #expect(try GRPCWebWire.decodeText(Array("YWJjZA".utf8)) == Array("abcd".utf8))  // unpadded end
        #expect(throws: (any Error).self) { try GRPCWebWire.decodeText(Array("YW!j".utf8)) }
    }

    @Test("the trailer frame holds grpc-status, grpc-message and details as header lines")
    func trailerFrameWhenCallFailed() throws {
        let error = ServiceErrorFixture.invalid
        let frame = GRPCWebWire.trailerFrame(error, metadata: .init())
        #expect(frame[0] == 0x80)
        let text = String(decoding: frame[5...], as: UTF8.self)
        #expect(text.hasPrefix("grpc-status:3\r\ngrpc-message:rating: must be 1%E2%80%935\r\ngrpc-status-details-bin:"))
        #expect(text.hasSuffix("\r\n"))
    }

    @Test("Connect errors: code names, HTTP statuses and details as Connect writes them")
    func errorJSONWhenFieldsAreInvalid() throws {
        let object = try JSONSerialization.jsonObject(with: Data(ConnectWire.errorJSON(ServiceErrorFixture.invalid))) as? [String: Any]
        #expect(object?["code"] as? String == "invalid_argument")
        #expect(object?["message"] as? String == "rating: must be 1–5")
        let detail = (object?["details"] as? [[String: Any]])?.first
        #expect(detail?["type"] as? String == "google.rpc.BadRequest")
        #expect((detail?["value"] as? String).map { !$0.contains("=") && !$0.isEmpty } == true)
        #expect(ServiceErrorFixture.code(.cancelled).connectName == "canceled")
        #expect(ServiceErrorFixture.code(.failedPrecondition).connectHTTPStatus == 400)
        #expect(ServiceErrorFixture.code(.unimplemented).connectHTTPStatus == 501)
        #expect(ServiceErrorFixture.code(.resourceExhausted).connectHTTPStatus == 429)
        let end = try JSONSerialization.jsonObject(
            with: Data(ConnectWire.endOfStream(nil, metadata: [("a", "1"), ("a", "2"), ("b", "3")]))) as? [String: Any]
        #expect(end?["error"] == nil)
        #expect((end?["metadata"] as? [String: [String]]) == ["a": ["1", "2"], "b": ["3"]])
    }

    @Test("a GET's query: every problem named at once; base64url with or without padding")
    func getQueryWhenParametersAreWrong() throws {
        let query = try ConnectWire.getQuery("/x.Y/Z?encoding=proto&base64=1&message=CgF4&connect=v1")
        #expect(query.encoding == "proto" && query.message == [0x0A, 0x01, 0x78] && query.compression == nil)
        let json = try ConnectWire.getQuery("/x.Y/Z?encoding=json&message=%7B%22a%22%3A1%7D&compression=identity")
        #expect(String(decoding: json.message, as: UTF8.self) == #"{"a":1}"#)
        do {
            _ = try ConnectWire.getQuery("/x.Y/Z?encoding=xml&compression=br&base64=2")
            Issue.record("accepted")
        } catch {
            #expect(Set(error.fieldViolations.map(\.field)) == ["encoding", "compression", "message", "base64"])
        }
        #expect(throws: (any Error).self) { try ConnectWire.getQuery("/x.Y/Z?encoding=json&message=1&connect=v2") }
        #expect(throws: (any Error).self) { try ConnectWire.getQuery("/x.Y/Z?encoding=json&message=1&message=2") }
        // Form encoding: `+` is a space, `%2B` a plus; a broken escape or a name that is not
        // UTF-8 refuses the query.
        let plus = try ConnectWire.getQuery("/x.Y/Z?encoding=json&message=%7B%22a%22%3A%22b+c%2Bd%22%7D")
        #expect(String(decoding: plus.message, as: UTF8.self) == #"{"a":"b c+d"}"#)
        for bad in ["message=%", "message=%4", "message=%zz", "%ff=1"] {
            #expect(throws: (any Error).self, "\(bad)") { try ConnectWire.getQuery("/x.Y/Z?encoding=json&\(bad)") }
        }
    }

    @Test("connect-timeout-ms: 1 to 10 digits")
    func timeoutWhenHeaderIsMalformed() {
        #expect(ConnectWire.timeout("1500") == .milliseconds(1500))
        #expect(ConnectWire.timeout("9999999999") == .milliseconds(9_999_999_999))
        for bad in ["", "12345678901", "-1", "1.5", "1e3", " 1"] { #expect(ConnectWire.timeout(bad) == nil, "\(bad)") }
    }

    private func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        try GzipFixture.compress(bytes)
    }
}
