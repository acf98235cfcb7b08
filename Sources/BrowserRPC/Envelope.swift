import HTTP2Transport
import ServiceErrors

/// The framing gRPC-Web and Connect streaming share with gRPC: a flags byte, a 4-byte big-endian
/// length, then the message. Flags: 0x01 compressed; 0x80 a gRPC-Web trailer frame; 0x02 Connect's
/// end of stream.
enum Envelope {
    static let compressed: UInt8 = 0x01
    static let connectEndOfStream: UInt8 = 0x02

    static func encode(_ payload: [UInt8], flags: UInt8 = 0) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(5 + payload.count)
        bytes.append(flags)
        let length = UInt32(payload.count)
        bytes += [UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
            UInt8(truncatingIfNeeded: length)]
        bytes += payload
        return bytes
    }

    /// A message gzipped when `gzip` is set and it is big enough to gain (1 KiB), with its flag.
    static func encodeMessage(_ message: [UInt8], gzip: Bool) -> [UInt8] {
        if gzip, message.count >= Self.compressionThreshold, let deflated = try? Gzip.compress(message) {
            return self.encode(deflated, flags: Self.compressed)
        }
        return self.encode(message)
    }

    /// Replies smaller than this are sent as they are: gzip would save little and cost CPU.
    static let compressionThreshold = 1024

    /// The one message of a request body (unary and server-streaming calls send exactly one),
    /// decompressed when flagged and `encoding` is gzip, at most `limit` bytes.
    static func singleMessage(in body: [UInt8], encoding: String?, limit: Int) throws(ServiceError) -> [UInt8] {
        guard body.count >= 5 else {
            throw ServiceError(.invalidArgument, body.isEmpty ? "the request has no message" : "the request's message frame is truncated")
        }
        let flags = body[0]
        let length = Int(body[1]) << 24 | Int(body[2]) << 16 | Int(body[3]) << 8 | Int(body[4])
        guard flags & ~Self.compressed == 0 else {
            throw ServiceError(.invalidArgument, "the request's message frame has unknown flags 0x\(String(flags, radix: 16))")
        }
        guard body.count - 5 >= length else { throw ServiceError(.invalidArgument, "the request's message frame is truncated") }
        guard body.count - 5 == length else {
            throw ServiceError(.unimplemented, "this call takes exactly one request message; the body holds more")
        }
        guard length <= limit else {
            throw ServiceError(.resourceExhausted, "the request message is \(length) bytes; the limit is \(limit)")
        }
        let payload = Array(body[5...])
        guard flags & Self.compressed != 0 else { return payload }
        guard encoding == "gzip" else {
            throw ServiceError(.internal, "the request message is flagged compressed, but no compression was declared")
        }
        return try Self.gunzip(payload, limit: limit)
    }

    static func gunzip(_ bytes: [UInt8], limit: Int) throws(ServiceError) -> [UInt8] {
        do {
            return try Gzip.decompress(bytes, limit: limit)
        } catch {
            throw ServiceError(
                error.message.hasPrefix("decompressed") ? .resourceExhausted : .invalidArgument,
                "the request message: \(error.message)"
            )
        }
    }
}
