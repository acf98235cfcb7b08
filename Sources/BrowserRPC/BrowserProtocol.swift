import Foundation
import HTTP2Transport

/// The RPC protocols a browser, or any plain HTTP/1.1 or h2 client, can speak besides REST:
/// gRPC-Web and Connect. Which one a request speaks follows from its method, path and content type.
enum BrowserProtocol: Sendable, Equatable {
    /// How messages are written: protobuf's binary format or its canonical JSON mapping.
    enum Codec: String, Sendable {
        case proto
        case json
    }

    /// gRPC-Web (`application/grpc-web[+proto]`), or its base64 form (`application/grpc-web-text[+proto]`).
    case grpcWeb(text: Bool)
    /// A Connect unary call by POST: the body is the message (`application/proto`, `application/json`).
    case connectUnary(Codec)
    /// A Connect unary call by GET, the message in the query: side-effect-free methods only.
    case connectGet
    /// A Connect streaming call (`application/connect+proto`, `application/connect+json`): enveloped
    /// messages, ending with an end-of-stream message.
    case connectStreaming(Codec)

    /// For logs and metrics.
    var name: String {
        switch self {
        case .grpcWeb(let text): text ? "grpc-web-text" : "grpc-web"
        case .connectUnary, .connectGet, .connectStreaming: "connect"
        }
    }

    /// Where the call's deadline and compression are read from.
    var callHeaders: CallHeaders {
        switch self {
        case .grpcWeb: .grpc
        case .connectUnary, .connectGet: .connectUnary
        case .connectStreaming: .connectStreaming
        }
    }

    var isConnect: Bool {
        switch self {
        case .grpcWeb: false
        case .connectUnary, .connectGet, .connectStreaming: true
        }
    }

    /// What a request is to the browser protocols.
    enum Request: Sendable, Equatable {
        case call(BrowserProtocol)
        /// `OPTIONS` on a method's path: the allowed methods and, for allowed origins, CORS.
        case preflight
        /// POST to a method's path with a content type no protocol here carries.
        case unsupportedMediaType
        /// Another HTTP method on a method's path, or a gRPC-Web or Connect streaming body not POSTed.
        case methodNotAllowed
        /// Not an RPC request: REST, health, metrics — the fallback service answers it.
        case other
    }

    /// Tells the protocol apart. Paths of RPC methods (`/package.Service/Method`) never collide
    /// with the REST API's (`/api/…`, `/healthz`, `/openapi.json`), so a JSON POST is Connect on
    /// the one and REST on the other.
    static func classify(method: String, path: Substring, contentType: String?) -> Request {
        let mediaType = contentType.map(Self.mediaType) ?? ""
        let found: BrowserProtocol? =
            switch mediaType {
            case "application/grpc-web", "application/grpc-web+proto": .grpcWeb(text: false)
            case "application/grpc-web-text", "application/grpc-web-text+proto": .grpcWeb(text: true)
            case "application/connect+proto": .connectStreaming(.proto)
            case "application/connect+json": .connectStreaming(.json)
            default: nil
            }
        if let found { return method == "POST" ? .call(found) : .methodNotAllowed }
        guard Self.isMethodPath(path) else { return .other }
        switch method {
        case "POST":
            switch mediaType {
            case "application/proto": return .call(.connectUnary(.proto))
            case "application/json": return .call(.connectUnary(.json))
            default: return .unsupportedMediaType
            }
        case "GET": return .call(.connectGet)
        case "OPTIONS": return .preflight
        default: return .methodNotAllowed
        }
    }

    /// `/package.Service/Method`: two non-empty segments, the first a qualified name. (Over the
    /// bytes: it runs on every request.)
    static func isMethodPath(_ path: Substring) -> Bool {
        let bytes = path.utf8
        guard bytes.first == UInt8(ascii: "/") else { return false }
        var slashes = 0, serviceLength = 0, methodLength = 0
        var qualified = false
        for byte in bytes.dropFirst() {
            if byte == UInt8(ascii: "/") {
                slashes += 1
                guard slashes == 1 else { return false }
            } else if slashes == 0 {
                serviceLength += 1
                if byte == UInt8(ascii: ".") { qualified = true }
            } else {
                methodLength += 1
            }
        }
        return slashes == 1 && serviceLength > 0 && qualified && methodLength > 0
    }

    /// The media type without parameters, lower-cased: `Application/JSON; charset=utf-8` → `application/json`.
    static func mediaType(_ contentType: String) -> String {
        // Nearly always already bare and lower-case: then it is returned as it is.
        let plain = !contentType.utf8.contains { $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: " ") || $0 == 0x09 || (0x41...0x5A).contains($0) }
        if plain { return contentType }
        let type = contentType.prefix { $0 != ";" }
        return type.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
