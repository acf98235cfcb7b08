@testable import HTTP2Transport
import NIOCore

/// gRPC length-prefixed framing (`LengthPrefixedMessageReader`) and gzip message decompression,
/// as the server's stream reader uses them: the input arrives in chunks the fuzzer chooses, as
/// DATA frames would split it.
///
/// Properties: every byte appended is returned in a message or still held as partial; a
/// decompressed message compresses and decompresses back to itself.
enum GRPCFramingTarget {
    /// Small, so the fuzzer reaches the size limit (and the decompression-bomb check) quickly.
    static let maxMessageSize = 4096

    @Sendable static func run(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzInput(bytes)
        var split = input.byte()
        let payload = Array(input.rest)
        var reader = LengthPrefixedMessageReader(maxMessageSize: Self.maxMessageSize)
        var offset = 0
        var returned = 0
        while offset < payload.count {
            // Chunk sizes come from the first byte: 1...16 bytes, cycling through its bits.
            let size = min(payload.count - offset, Int(split & 0x0F) + 1)
            split = split >> 1 | split << 7
            // A slice of a larger receive buffer, as the connection hands it over.
            var receive = ByteBuffer(bytes: [0xEE] + payload[offset..<offset + size] + [0xEE])
            receive.moveReaderIndex(forwardBy: 1)
            reader.append(receive.getSlice(at: receive.readerIndex, length: size)!)
            offset += size
            do {
                while let message = try reader.next() {
                    returned += 5 + message.bytes.count
                    if message.compressed { Self.checkGzip(message.bytes) }
                }
            } catch {
                return  // the stream is reset: nothing more is read from it
            }
            reader.retainPartial()
            receive.setBytes([UInt8](repeating: 0xAA, count: size), at: receive.readerIndex)  // the buffer is reused
        }
        precondition(returned + reader.partialBytes == payload.count, "framing lost or invented bytes")
    }

    static func checkGzip(_ bytes: [UInt8]) {
        guard let inflated = try? Gzip.decompress(bytes, limit: Self.maxMessageSize) else { return }
        precondition(inflated.count <= Self.maxMessageSize, "decompression exceeded its limit")
        let again = try! Gzip.compress(inflated)
        precondition(try! Gzip.decompress(again, limit: Self.maxMessageSize) == inflated, "gzip does not round-trip")
    }

    static var seeds: [[UInt8]] {
        func frame(_ payload: [UInt8], compressed: Bool) -> [UInt8] {
            let length = UInt32(payload.count)
            return [compressed ? 1 : 0, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF),
                UInt8(length & 0xFF)] + payload
        }
        let message = Array("a small request message".utf8)
        return [
            [0x0F] + frame(message, compressed: false),
            [0x31] + frame(message, compressed: false) + frame([], compressed: false),
            [0x0F] + frame(try! Gzip.compress(message), compressed: true),
            [0x52] + frame(try! Gzip.compress(Array(repeating: 0x41, count: 3000)), compressed: true)
                + frame(Array("tail".utf8), compressed: false),
        ]
    }
}
