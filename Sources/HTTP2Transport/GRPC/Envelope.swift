import NIOCore
import ServiceErrors

/// The message framing gRPC, gRPC-Web and Connect share: a flags byte, a 4-byte big-endian length,
/// then the message. Flags: 0x01 compressed; 0x80 a gRPC-Web trailer frame; 0x02 Connect's end of
/// stream. (The gRPC transport's hot path frames into `ByteBuffer`s with `GRPCWire.frame` and
/// reads with `LengthPrefixedMessageReader`; these are the same rules over whole byte arrays.)
package enum Envelope {
    package static let compressed: UInt8 = 0x01
    package static let connectEndOfStream: UInt8 = 0x02
    package static let grpcWebTrailers: UInt8 = 0x80

    package static func encode(_ payload: [UInt8], flags: UInt8 = 0) -> [UInt8] {
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
    package static func encodeMessage(_ message: [UInt8], gzip: Bool) -> [UInt8] {
        if gzip, message.count >= Self.compressionThreshold, let deflated = try? Gzip.compress(message) {
            return self.encode(deflated, flags: Self.compressed)
        }
        return self.encode(message)
    }

    /// Replies smaller than this are sent as they are: gzip would save little and cost CPU.
    package static let compressionThreshold = 1024

    /// The one message of a request body (unary and server-streaming calls send exactly one), read
    /// by the gRPC reader's rules, decompressed when flagged and `encoding` is gzip.
    package static func singleMessage(in body: [UInt8], encoding: String?, limit: Int) throws(ServiceError) -> [UInt8] {
        guard !body.isEmpty else { throw ServiceError(.invalidArgument, "the request has no message") }
        var reader = LengthPrefixedMessageReader(maxMessageSize: limit)
        reader.append(ByteBuffer(bytes: body))
        let next: LengthPrefixedMessageReader.Message?
        do {
            next = try reader.next()
        } catch {
            throw ServiceError(limit: limit, readerFailure: error)
        }
        guard let message = next else { throw ServiceError(.invalidArgument, "the request's message frame is truncated") }
        guard reader.partialBytes == 0 else {
            throw ServiceError(.unimplemented, "this call takes exactly one request message; the body holds more")
        }
        guard message.compressed else { return message.bytes }
        guard encoding == "gzip" else {
            throw ServiceError(.internal, "the request message is flagged compressed, but no compression was declared")
        }
        return try Gzip.decompressMessage(message.bytes, limit: limit)
    }
}

extension ServiceError {
    /// What a client is told when the message reader refuses its framing.
    init(limit: Int, readerFailure: LengthPrefixedMessageReader.Failure) {
        switch readerFailure {
        case .tooLarge(let size):
            self.init(.resourceExhausted, "the message is \(size) bytes; the limit is \(limit)")
        case .invalidFlag(let flag):
            self.init(.internal, "invalid compressed-flag byte \(flag) (unknown flags)")
        }
    }
}
