import Foundation
import NIOCore
import ProtoWire
import RPCCore
import ServiceErrors

/// The gRPC-over-HTTP/2 encodings of status, deadlines and metadata.
package enum GRPCWire {
    /// Percent-encodes a status message (gRPC over HTTP/2: "Status-Message": unreserved printable
    /// ASCII is sent as is, everything else as %XX of its UTF-8 bytes).
    package static func percentEncoded(_ message: String) -> String {
        var result = ""
        result.reserveCapacity(message.utf8.count)
        for byte in message.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                result.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }

    package static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses `grpc-timeout` (1–8 digits and a unit: H, M, S, m, u, n).
    package static func timeout(_ value: String) -> Duration? {
        guard let unit = value.last, value.count >= 2, value.count <= 9,
            let amount = Int64(value.dropLast()), amount >= 0
        else { return nil }
        switch unit {
        case "H": return .seconds(amount * 3600)
        case "M": return .seconds(amount * 60)
        case "S": return .seconds(amount)
        case "m": return .milliseconds(amount)
        case "u": return .microseconds(amount)
        case "n": return .nanoseconds(amount)
        default: return nil
        }
    }

    /// Formats a timeout for `grpc-timeout`, in the coarsest unit that keeps 8 digits.
    static func timeoutHeader(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanos = max(0, seconds) * 1_000_000_000 + attoseconds / 1_000_000_000
        if nanos < 100_000_000 { return "\(nanos)n" }
        if nanos / 1000 < 100_000_000 { return "\(nanos / 1000)u" }
        if nanos / 1_000_000 < 100_000_000 { return "\(nanos / 1_000_000)m" }
        return "\(min(99_999_999, nanos / 1_000_000_000))S"
    }

    /// One Length-Prefixed-Message: flag, big-endian length, then the message, gzipped when
    /// `compress` is set (falling back to uncompressed if compression fails).
    static func frame(_ message: [UInt8], compress: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = message
        var flag: UInt8 = 0
        if compress, let deflated = try? Gzip.compress(message) {
            payload = deflated
            flag = 1
        }
        var buffer = allocator.buffer(capacity: 5 + payload.count)
        buffer.writeInteger(flag)
        buffer.writeInteger(UInt32(payload.count))
        buffer.writeBytes(payload)
        return buffer
    }

    /// Whether a comma-separated header list (e.g. `identity, deflate,gzip`) names `token`;
    /// spaces and tabs around items are ignored. Byte-level: it runs on every call.
    package static func listContains(_ list: String, _ token: StaticString) -> Bool {
        let wanted = UnsafeRawBufferPointer(start: token.utf8Start, count: token.utf8CodeUnitCount)
        return list.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true).contains { item in
            let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
            guard let first = item.firstIndex(where: { !isBlank($0) }),
                let last = item.lastIndex(where: { !isBlank($0) })
            else { return false }
            return item[first...last].elementsEqual(wanted)
        }
    }

    /// A `-bin` metadata value: base64 with or without padding, as gRPC allows.
    package static func decodeBinaryHeader(_ value: String) -> [UInt8]? {
        var text = value.trimmingCharacters(in: .whitespaces)
        text += String(repeating: "=", count: (4 - text.utf8.count % 4) % 4)
        return Data(base64Encoded: text).map { [UInt8]($0) }
    }

    /// `grpc-status-details-bin`: a serialized google.rpc.Status carrying a google.rpc.BadRequest
    /// with the field violations, base64 without padding.
    package static func statusDetails(_ error: ServiceError) -> String? {
        guard let badRequest = self.badRequest(error) else { return nil }
        var status = ProtoWriter()
        status.writeInt32(1, Int32(error.code.rawValue))  // Status.code
        if !error.message.isEmpty { status.writeString(2, error.message) }  // Status.message
        status.writeTag(3, .lengthDelimited)  // Status.details: google.protobuf.Any
        status.writeLengthPrefixed { any in
            any.writeString(1, "type.googleapis.com/google.rpc.BadRequest")
            any.writeBytes(2, badRequest)
        }
        return Data(status.bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// A serialized google.rpc.BadRequest with the error's field violations; nil when it has none.
    package static func badRequest(_ error: ServiceError) -> [UInt8]? {
        guard !error.fieldViolations.isEmpty else { return nil }
        var badRequest = ProtoWriter()
        for violation in error.fieldViolations {
            badRequest.writeTag(1, .lengthDelimited)  // BadRequest.field_violations
            badRequest.writeLengthPrefixed { entry in
                entry.writeString(1, violation.field)  // FieldViolation.field
                entry.writeString(2, violation.description)  // FieldViolation.description
            }
        }
        return badRequest.bytes
    }

    /// `grpc-status`, `grpc-message` and the details of `error` (nil: OK), then the handler's
    /// trailers: gRPC's trailers, and gRPC-Web's trailer frame.
    package static func trailerFields(_ error: ServiceError?, _ metadata: Metadata) -> [(name: String, value: String)] {
        var trailers: [(name: String, value: String)] = [("grpc-status", String(error?.code.rawValue ?? 0))]
        if let error {
            if !error.message.isEmpty { trailers.append(("grpc-message", Self.percentEncoded(error.message))) }
            if let details = Self.statusDetails(error) { trailers.append(("grpc-status-details-bin", details)) }
        }
        return trailers + Self.headerFields(metadata)
    }

    /// Metadata as header fields: `-bin` values in base64 without padding.
    package static func headerFields(_ metadata: Metadata) -> [(name: String, value: String)] {
        metadata.map { entry in
            switch entry.value {
            case .text(let text): (entry.key, text)
            case .binary(let bytes): (entry.key, Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: ""))
            }
        }
    }

    /// The field violations of a `grpc-status-details-bin` value (google.rpc.Status whose details
    /// hold a google.rpc.BadRequest); empty when there are none or the value is malformed.
    package static func fieldViolations(fromStatusDetails value: String) -> [FieldViolation] {
        guard let bytes = self.decodeBinaryHeader(value) else { return [] }
        /// Calls `visit` for each field of the message in `bytes`; false when malformed.
        func fields(_ bytes: [UInt8], _ visit: (FieldTag, inout ProtoReader) throws(ProtoDecodingError) -> Bool) -> Bool {
            bytes.withUnsafeBytes { raw in
                var reader = ProtoReader(raw)
                var skipped = UnknownFields()
                do {
                    while let tag = try reader.nextTag() {
                        if try !visit(tag, &reader) { try reader.skipField(tag, into: &skipped) }
                    }
                    return true
                } catch {
                    return false
                }
            }
        }
        var violations: [FieldViolation] = []
        _ = fields(bytes) { tag, reader throws(ProtoDecodingError) in
            guard tag.fieldNumber == 3, tag.wireType == .lengthDelimited else { return false }  // Status.details
            let any = try reader.readBytes()
            var typeURL = ""
            var payload: [UInt8] = []
            _ = fields(any) { tag, reader throws(ProtoDecodingError) in
                switch (tag.fieldNumber, tag.wireType) {
                case (1, .lengthDelimited): typeURL = try reader.readString()
                case (2, .lengthDelimited): payload = try reader.readBytes()
                default: return false
                }
                return true
            }
            guard typeURL.hasSuffix("/google.rpc.BadRequest") else { return true }
            _ = fields(payload) { tag, reader throws(ProtoDecodingError) in
                guard tag.fieldNumber == 1, tag.wireType == .lengthDelimited else { return false }  // field_violations
                var violation = FieldViolation(field: "", description: "")
                _ = fields(try reader.readBytes()) { tag, reader throws(ProtoDecodingError) in
                    switch (tag.fieldNumber, tag.wireType) {
                    case (1, .lengthDelimited): violation.field = try reader.readString()
                    case (2, .lengthDelimited): violation.description = try reader.readString()
                    default: return false
                    }
                    return true
                }
                violations.append(violation)
                return true
            }
            return true
        }
        return violations
    }
}
