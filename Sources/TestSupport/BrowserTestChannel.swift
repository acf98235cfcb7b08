import Foundation
import HTTP2Transport
import ProtoJSON
import ProtoWire
import RPCCore
import ServiceErrors

/// Calls a server's methods over gRPC-Web or the Connect protocol, as a browser would, on
/// HTTP/1.1: so tables written against `RPCChannel` (the authorization matrix, the error table)
/// run over these protocols too. Failures come back as `ServiceError`s with the code, message
/// and field violations the protocol carried. One connection per call.
package struct BrowserTestChannel: RPCChannel {
    package enum Wire: String, Sendable, CaseIterable {
        /// gRPC-Web, binary.
        case grpcWeb
        /// Connect with the proto codec.
        case connectProto
        /// Connect with the JSON codec: requests and replies in protobuf's canonical JSON mapping.
        case connectJSON
    }

    let port: Int
    let proto: Wire
    /// Turns a JSON reply into the binary message the caller decodes (Connect JSON only).
    let codecs: [String: RPCJSONCodec]

    package init(port: Int, protocol proto: Wire, codecs: [RPCJSONCodec] = []) {
        self.port = port
        self.proto = proto
        self.codecs = Dictionary(codecs.map { ($0.method.path, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// One enveloped message: flags, 4-byte big-endian length, payload.
    package static func envelope(_ payload: [UInt8], flags: UInt8 = 0) -> [UInt8] {
        Envelope.encode(payload, flags: flags)
    }

    /// The complete envelopes at the start of `bytes`, and whether a partial one follows.
    package static func envelopes(_ bytes: [UInt8]) -> (frames: [(flags: UInt8, payload: [UInt8])], partial: Bool) {
        var frames: [(flags: UInt8, payload: [UInt8])] = []
        var index = 0
        while bytes.count - index >= 5 {
            let length = Int(bytes[index + 1]) << 24 | Int(bytes[index + 2]) << 16 | Int(bytes[index + 3]) << 8 | Int(bytes[index + 4])
            guard bytes.count - index - 5 >= length else { return (frames, true) }
            frames.append((bytes[index], Array(bytes[(index + 5)..<(index + 5 + length)])))
            index += 5 + length
        }
        return (frames, index < bytes.count)
    }

    private func headers(_ options: CallOptions, contentType: String) -> [(String, String)] {
        var headers = [("content-type", contentType)]
        if self.proto != .grpcWeb { headers.append(("connect-protocol-version", "1")) }
        for entry in options.metadata {
            if case .text(let text) = entry.value { headers.append((entry.key, text)) }
        }
        if let timeout = options.timeout {
            let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
            headers.append(self.proto == .grpcWeb ? ("grpc-timeout", "\(milliseconds)m") : ("connect-timeout-ms", "\(milliseconds)"))
        }
        return headers
    }

    private func requestBody(_ method: RPCMethod, _ request: [UInt8]) throws -> [UInt8] {
        guard self.proto == .connectJSON else { return request }
        guard let codec = self.codecs[method.path] else { throw ServiceError(.internal, "no JSON codec for \(method.path)") }
        return try codec.requestJSON(fromBinary: request)
    }

    private func reply(_ method: RPCMethod, _ payload: [UInt8]) throws -> [UInt8] {
        guard self.proto == .connectJSON else { return payload }
        guard let codec = self.codecs[method.path] else { throw ServiceError(.internal, "no JSON codec for \(method.path)") }
        return try codec.responseBinary(fromJSON: payload)
    }

    package func unary(_ method: RPCMethod, request: [UInt8], options: CallOptions) async throws -> [UInt8] {
        let body = try self.requestBody(method, request)
        switch self.proto {
        case .grpcWeb:
            let response = try await HTTPTestClient.request(
                port: self.port, "POST", method.path, headers: self.headers(options, contentType: "application/grpc-web+proto"),
                body: Self.envelope(body))
            guard response.status == 200 else { throw ServiceError(.unknown, "gRPC-Web answered HTTP \(response.status)") }
            var message: [UInt8]?
            for frame in Self.envelopes(response.body).frames {
                if frame.flags & 0x80 != 0 {
                    try Self.checkTrailers(frame.payload)
                } else {
                    message = frame.payload
                }
            }
            guard let message else { throw ServiceError(.internal, "gRPC-Web reply without a message") }
            return message
        case .connectProto, .connectJSON:
            let type = self.proto == .connectJSON ? "application/json" : "application/proto"
            let response = try await HTTPTestClient.request(
                port: self.port, "POST", method.path, headers: self.headers(options, contentType: type), body: body)
            guard response.status == 200 else { throw Self.connectError(response.body, status: response.status) }
            return try self.reply(method, response.body)
        }
    }

    package func serverStreaming(
        _ method: RPCMethod,
        request: [UInt8],
        options: CallOptions,
        onResponse: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        let body = try self.requestBody(method, request)
        let type: String =
            switch self.proto {
            case .grpcWeb: "application/grpc-web+proto"
            case .connectProto: "application/connect+proto"
            case .connectJSON: "application/connect+json"
            }
        // Reads until the first whole message (or the end): enough for a stream that never ends.
        let response = try await HTTPTestClient.request(
            port: self.port, "POST", method.path, headers: self.headers(options, contentType: type), body: Self.envelope(body),
            until: { !Self.envelopes($0).frames.isEmpty })
        guard response.status == 200 else { throw ServiceError(.unknown, "the stream answered HTTP \(response.status)") }
        for frame in Self.envelopes(response.body).frames {
            switch (self.proto, frame.flags) {
            case (.grpcWeb, let flags) where flags & 0x80 != 0:
                try Self.checkTrailers(frame.payload)
                return
            case (.connectProto, 0x02), (.connectJSON, 0x02):
                let end = try JSONSerialization.jsonObject(with: Data(frame.payload)) as? [String: Any]
                if let error = end?["error"] {
                    throw Self.connectError(try JSONSerialization.data(withJSONObject: error).map { $0 }, status: 200)
                }
                return
            default:
                let message = try self.reply(method, frame.payload)
                do {
                    try await onResponse(message)
                } catch {
                    // As the gRPC channel reports it: the caller's own error, as the cause.
                    throw ServiceError(.cancelled, "the response handler stopped the call", cause: error)
                }
            }
        }
    }

    package func clientStreaming(_ method: RPCMethod, options: CallOptions, requests: @escaping RPCRequestProducer) async throws
        -> [UInt8]
    {
        throw ServiceError(.unimplemented, "not over browser protocols")
    }

    package func bidirectionalStreaming(
        _ method: RPCMethod,
        options: CallOptions,
        requests: @escaping RPCRequestProducer,
        onResponse: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        throw ServiceError(.unimplemented, "not over browser protocols")
    }

    /// A gRPC-Web trailer frame: throws unless `grpc-status:0`.
    private static func checkTrailers(_ payload: [UInt8]) throws {
        var fields: [String: String] = [:]
        for line in String(decoding: payload, as: UTF8.self).split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        guard let status = fields["grpc-status"].flatMap(Int.init) else { throw ServiceError(.internal, "trailers without grpc-status") }
        guard status != 0 else { return }
        throw ServiceError(
            ServiceError.Code(grpcStatus: status) ?? .unknown,
            GRPCWire.percentDecoded(fields["grpc-message"] ?? ""),
            fieldViolations: fields["grpc-status-details-bin"].map(GRPCWire.fieldViolations(fromStatusDetails:)) ?? []
        )
    }

    /// A Connect error JSON, with the field violations its `debug` shows.
    private static func connectError(_ body: [UInt8], status: Int) -> ServiceError {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let name = object["code"] as? String
        else { return ServiceError(.unknown, "HTTP \(status) without a Connect error") }
        let code = ServiceError.Code.allCases.first { $0.connectName == name } ?? .unknown
        var violations: [FieldViolation] = []
        for detail in object["details"] as? [[String: Any]] ?? [] {
            let debug = detail["debug"] as? [String: Any]
            for violation in debug?["fieldViolations"] as? [[String: Any]] ?? [] {
                violations.append(FieldViolation(field: violation["field"] as? String ?? "", description: violation["description"] as? String ?? ""))
            }
        }
        var error = ServiceError(code, object["message"] as? String ?? "", fieldViolations: violations)
        error.cause = HTTPStatus(status: status)
        return error
    }

    /// The HTTP status a Connect error came with, kept as the error's cause for tests to check.
    package struct HTTPStatus: Error {
        package var status: Int
    }
}
