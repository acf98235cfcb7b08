import Foundation
import HTTP2Transport
import HTTPMessages
import RPCCore
import ServiceErrors

/// The replies of gRPC-Web and Connect calls: content types, where status and metadata go, and
/// compression.
enum BrowserReply {
    static func contentType(_ proto: BrowserProtocol, codec: BrowserProtocol.Codec) -> String {
        switch proto {
        case .grpcWeb(let text): text ? "application/grpc-web-text+proto" : "application/grpc-web+proto"
        case .connectUnary, .connectGet: "application/\(codec.rawValue)"
        case .connectStreaming: "application/connect+\(codec.rawValue)"
        }
    }

    /// A unary call's reply. gRPC-Web: the message frame and the trailer frame; Connect: the
    /// message as the body, metadata as headers and trailers as `trailer-` headers.
    static func unary(_ message: [UInt8], call: BrowserRPCService.PreparedCall) -> HTTPResponse {
        let codec: BrowserProtocol.Codec = call.codec == nil ? .proto : .json
        var headers: [(name: String, value: String)] = [("content-type", Self.contentType(call.proto, codec: codec))]
        headers += GRPCWire.headerFields(call.responseMetadata.headers)
        switch call.proto {
        case .grpcWeb(let text):
            headers.append(("grpc-accept-encoding", "identity,gzip"))
            let gzip = call.gzipReplies && message.count >= Envelope.compressionThreshold
            if gzip { headers.append(("grpc-encoding", "gzip")) }
            var body = Envelope.encodeMessage(message, gzip: gzip)
            body += GRPCWebWire.trailerFrame(nil, metadata: call.responseMetadata.trailers)
            return HTTPResponse(status: 200, headers: headers, body: text ? GRPCWebWire.encodeText(body) : body)
        case .connectUnary, .connectGet, .connectStreaming:
            headers += GRPCWire.headerFields(call.responseMetadata.trailers).map { ("trailer-" + $0.name, $0.value) }
            if call.gzipReplies, message.count >= Envelope.compressionThreshold, let deflated = try? Gzip.compress(message) {
                headers.append(("content-encoding", "gzip"))
                return HTTPResponse(status: 200, headers: headers, body: deflated)
            }
            return HTTPResponse(status: 200, headers: headers, body: message)
        }
    }

    /// A failed (or refused) call. gRPC-Web: HTTP 200 with only the trailer frame; Connect unary:
    /// the error JSON with the Connect HTTP status; Connect streaming: HTTP 200 with only the
    /// end-of-stream message.
    static func failure(_ error: ServiceError, proto: BrowserProtocol, metadata: ResponseMetadata?) -> HTTPResponse {
        let headerMetadata = metadata.map { GRPCWire.headerFields($0.headers) } ?? []
        let trailerMetadata = metadata?.trailers ?? Metadata()
        switch proto {
        case .grpcWeb(let text):
            let body = GRPCWebWire.trailerFrame(error, metadata: trailerMetadata)
            return HTTPResponse(
                status: 200,
                headers: [("content-type", Self.contentType(proto, codec: .proto)), ("grpc-accept-encoding", "identity,gzip")]
                    + headerMetadata,
                body: text ? GRPCWebWire.encodeText(body) : body
            )
        case .connectUnary, .connectGet:
            var headers: [(name: String, value: String)] = [("content-type", "application/json")]
            headers += headerMetadata + GRPCWire.headerFields(trailerMetadata)
            if error.code == .resourceExhausted, !headers.contains(where: { $0.name == "retry-after" }) {
                headers.append(("retry-after", "1"))
            }
            return HTTPResponse(status: error.code.connectHTTPStatus, headers: headers, body: ConnectWire.errorJSON(error))
        case .connectStreaming(let codec):
            let end = ConnectWire.endOfStream(error, metadata: GRPCWire.headerFields(trailerMetadata))
            return HTTPResponse(
                status: 200,
                headers: [("content-type", Self.contentType(proto, codec: codec))] + headerMetadata,
                body: Envelope.encode(end, flags: Envelope.connectEndOfStream)
            )
        }
    }

    /// One part of a streamed body.
    enum StreamPart {
        case message([UInt8])
        /// The status: nil for success; the call's trailers go with it.
        case end(ServiceError?, ResponseMetadata)
    }

    /// The headers of a streamed reply, sent before the first message.
    static func streamHead(_ call: BrowserRPCService.PreparedCall, stream: HTTPBodyStream) -> HTTPResponse {
        let codec: BrowserProtocol.Codec = call.codec == nil ? .proto : .json
        var headers: [(name: String, value: String)] = [("content-type", Self.contentType(call.proto, codec: codec))]
        switch call.proto {
        case .grpcWeb:
            headers.append(("grpc-accept-encoding", "identity,gzip"))
            if call.gzipReplies { headers.append(("grpc-encoding", "gzip")) }
        case .connectUnary, .connectGet, .connectStreaming:
            headers.append(("connect-accept-encoding", "gzip"))
            if call.gzipReplies { headers.append(("connect-content-encoding", "gzip")) }
        }
        headers.append(("cache-control", "no-store"))
        return HTTPResponse(status: 200, headers: headers, stream: stream)
    }

    /// Encodes the parts of a streamed body in the call's protocol.
    static func streamFramer(_ call: BrowserRPCService.PreparedCall) -> @Sendable (StreamPart) -> [UInt8] {
        let proto = call.proto
        let gzip = call.gzipReplies
        return { part in
            let bytes: [UInt8]
            switch (part, proto) {
            case (.message(let message), _):
                bytes = Envelope.encodeMessage(message, gzip: gzip)
            case (.end(let error, let metadata), .grpcWeb):
                var all = metadata.headers
                for entry in metadata.trailers {
                    switch entry.value {
                    case .text(let text): all.add(entry.key, text)
                    case .binary(let binary): all.add(entry.key, binary: binary)
                    }
                }
                bytes = GRPCWebWire.trailerFrame(error, metadata: all)
            case (.end(let error, let metadata), .connectUnary), (.end(let error, let metadata), .connectGet),
                (.end(let error, let metadata), .connectStreaming):
                let fields = GRPCWire.headerFields(metadata.headers) + GRPCWire.headerFields(metadata.trailers)
                bytes = Envelope.encode(ConnectWire.endOfStream(error, metadata: fields), flags: Envelope.connectEndOfStream)
            }
            if case .grpcWeb(text: true) = proto { return GRPCWebWire.encodeText(bytes) }
            return bytes
        }
    }
}
