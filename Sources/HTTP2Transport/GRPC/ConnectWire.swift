import Foundation
import HTTPMessages
import ProtoJSON
import ProtoWire
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
            writer.fieldViolations(error.fieldViolations)
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

    /// Parsed over the target's bytes (no Foundation string scans: this runs on every GET).
    package static func getQuery(_ target: String) throws(ServiceError) -> GetQuery {
        var parameters: [String: [UInt8]] = [:]
        var target = target
        let failure = target.withUTF8 { (bytes: UnsafeBufferPointer<UInt8>) -> ServiceError? in
            guard let start = bytes.firstIndex(of: UInt8(ascii: "?")) else { return nil }
            for pair in bytes[(start + 1)...].split(separator: UInt8(ascii: "&")) {
                let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
                guard let name = PercentDecoding.text(pair[..<equals], plusIsSpace: true),
                    let value = PercentDecoding.bytes(
                        equals < pair.endIndex ? pair[(equals + 1)...] : pair[pair.endIndex...], plusIsSpace: true)
                else {
                    return ServiceError(.invalidArgument, "the query is not valid percent-encoded UTF-8")
                }
                guard parameters[name] == nil else { return ServiceError.invalidField(name, "is given more than once") }
                parameters[name] = value
            }
            return nil
        }
        if let failure { throw failure }
        func text(_ name: String) -> String? { parameters[name].map { String(decoding: $0, as: UTF8.self) } }
        if let version = text("connect"), version != "v1" {
            throw ServiceError.invalidField("connect", "must be v1, not '\(version)'")
        }
        var violations: [FieldViolation] = []
        let encoding = text("encoding").flatMap { $0 == "proto" || $0 == "json" ? $0 : nil }
        if encoding == nil { violations.append(FieldViolation(field: "encoding", description: "must be proto or json")) }
        let compression = text("compression")
        if let compression, compression != "gzip", compression != "identity" {
            violations.append(FieldViolation(field: "compression", description: "must be gzip or identity, not '\(compression)'"))
        }
        let base64 = text("base64")
        var message: [UInt8]?
        if let raw = parameters["message"] {
            if base64 == "1" {
                message = Base64.decode(raw)
                if message == nil { violations.append(FieldViolation(field: "message", description: "is not base64url")) }
            } else {
                message = raw
            }
        } else {
            violations.append(FieldViolation(field: "message", description: "is required"))
        }
        if let base64, base64 != "1", base64 != "0" {
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
}
