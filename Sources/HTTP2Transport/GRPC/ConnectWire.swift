import Foundation
import ProtoJSON
import RPCCore
import ServiceErrors

/// The Connect protocol's own encodings (connectrpc.com/docs/protocol): errors as JSON, the
/// end-of-stream message, timeouts, and the query of a GET request. Used by the browser
/// protocols' HTTP service and by the HTTP/2 transport's full-duplex Connect streams.
package enum ConnectWire {
    /// `{"code":"not_found","message":…,"details":[{"type":…,"value":…,"debug":…}]}`.
    package static func errorJSON(_ error: ServiceError) -> [UInt8] {
        var writer = JSONWriter()
        self.writeError(error, to: &writer)
        return writer.bytes
    }

    private static func writeError(_ error: ServiceError, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("code")
        writer.string(error.code.connectName)
        if !error.message.isEmpty {
            writer.key("message")
            writer.string(error.message)
        }
        if let badRequest = GRPCWire.badRequest(error) {
            writer.key("details")
            writer.beginArray()
            writer.beginObject()
            writer.key("type")
            writer.string("google.rpc.BadRequest")
            writer.key("value")
            writer.string(Data(badRequest).base64EncodedString().replacingOccurrences(of: "=", with: ""))
            // What the value holds, for people reading it with curl (clients use `value`).
            writer.key("debug")
            writer.beginObject()
            writer.key("fieldViolations")
            writer.beginArray()
            for violation in error.fieldViolations {
                writer.beginObject()
                writer.key("field")
                writer.string(violation.field)
                writer.key("description")
                writer.string(violation.description)
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
            writer.endObject()
            writer.endArray()
        }
        writer.endObject()
    }

    /// The end-of-stream message: the error, if the call failed, and the trailers as `metadata`.
    package static func endOfStream(_ error: ServiceError?, metadata: [(name: String, value: String)]) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        if let error {
            writer.key("error")
            self.writeError(error, to: &writer)
        }
        if !metadata.isEmpty {
            writer.key("metadata")
            writer.beginObject()
            var names: [String] = []
            for field in metadata where !names.contains(field.name) { names.append(field.name) }
            for name in names {
                writer.key(name)
                writer.beginArray()
                for field in metadata where field.name == name { writer.string(field.value) }
                writer.endArray()
            }
            writer.endObject()
        }
        writer.endObject()
        return writer.bytes
    }

    /// `connect-timeout-ms`: 1–10 digits of milliseconds.
    package static func timeout(_ value: String) -> Duration? {
        guard (1...10).contains(value.utf8.count), value.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            let milliseconds = Int64(value)
        else { return nil }
        return .milliseconds(milliseconds)
    }

    /// A GET request's query: `message`, `encoding`, and optionally `base64`, `compression`, `connect`.
    package struct GetQuery: Sendable {
        package var message: [UInt8]
        /// `proto` or `json`.
        package var encoding: String
        /// `gzip`, or nil for none.
        package var compression: String?
    }

    package static func getQuery(_ target: String) throws(ServiceError) -> GetQuery {
        var parameters: [String: String] = [:]
        if let start = target.firstIndex(of: "?") {
            for pair in target[target.index(after: start)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let decode = { (text: Substring) in text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
                guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else {
                    throw ServiceError(.invalidArgument, "the query is not valid percent-encoded UTF-8")
                }
                guard parameters[name] == nil else { throw ServiceError.invalidField(name, "is given more than once") }
                parameters[name] = value
            }
        }
        if let version = parameters["connect"], version != "v1" {
            throw ServiceError.invalidField("connect", "must be v1, not '\(version)'")
        }
        var violations: [FieldViolation] = []
        let encoding = parameters["encoding"].flatMap { ["proto", "json"].contains($0) ? $0 : nil }
        if encoding == nil { violations.append(FieldViolation(field: "encoding", description: "must be proto or json")) }
        let compression = parameters["compression"]
        if let compression, compression != "gzip", compression != "identity" {
            violations.append(FieldViolation(field: "compression", description: "must be gzip or identity, not '\(compression)'"))
        }
        var message: [UInt8]?
        if let text = parameters["message"] {
            if parameters["base64"] == "1" {
                message = self.base64URLDecoded(text)
                if message == nil { violations.append(FieldViolation(field: "message", description: "is not base64url")) }
            } else {
                message = Array(text.utf8)
            }
        } else {
            violations.append(FieldViolation(field: "message", description: "is required"))
        }
        if let base64 = parameters["base64"], base64 != "1", base64 != "0" {
            violations.append(FieldViolation(field: "base64", description: "must be 1 or 0"))
        }
        guard violations.isEmpty, let encoding, let message else {
            throw ServiceError(
                .invalidArgument,
                violations.map { "\($0.field): \($0.description)" }.joined(separator: "; "),
                fieldViolations: violations
            )
        }
        return GetQuery(message: message, encoding: encoding, compression: compression == "identity" ? nil : compression)
    }

    /// URL-safe or standard base64, padded or not.
    package static func base64URLDecoded(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return Data(base64Encoded: base64).map { [UInt8]($0) }
    }
}
