private import CZlib
import ServiceErrors

/// gzip for gRPC message compression (`grpc-encoding: gzip`), over the system zlib.
package enum Gzip {
    package struct Failure: Error {
        package var message: String
        /// The output passed the limit (as opposed to input that is not gzip).
        package var isTooLarge = false
    }

    package static func compress(_ input: [UInt8]) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard cz_deflate_init_gzip(&stream, Z_DEFAULT_COMPRESSION) == Z_OK else { throw Failure(message: "deflate init failed") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        let status = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = UInt32(destination.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw Failure(message: "deflate failed (\(status))") }
        return Array(output.prefix(Int(stream.total_out)))
    }

    /// Inflates a gzip member, refusing output larger than `limit` (a decompression bomb).
    package static func decompress(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard cz_inflate_init_gzip(&stream) == Z_OK else { throw Failure(message: "inflate init failed") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var input = input
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while status == Z_OK {
                chunk.withUnsafeMutableBufferPointer { destination in
                    stream.next_out = destination.baseAddress
                    stream.avail_out = UInt32(destination.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk.prefix(produced))
                if output.count > limit { return }
                if status == Z_OK && produced == 0 && stream.avail_in == 0 { status = Z_BUF_ERROR }
            }
        }
        guard output.count <= limit else {
            throw Failure(message: "decompressed message is larger than \(limit) bytes", isTooLarge: true)
        }
        guard status == Z_STREAM_END else { throw Failure(message: "message is not valid gzip") }
        return output
    }

    /// A compressed request message inflated, for every protocol the same way: larger than
    /// `limit` is RESOURCE_EXHAUSTED (a decompression bomb), not gzip is INTERNAL (gRPC's rule for
    /// a message that cannot be decompressed).
    package static func decompressMessage(_ input: [UInt8], limit: Int) throws(ServiceError) -> [UInt8] {
        do {
            return try self.decompress(input, limit: limit)
        } catch {
            throw ServiceError(
                error.isTooLarge ? .resourceExhausted : .internal, "cannot decompress the message: \(error.message)")
        }
    }
}
