import Foundation
import RPCCore
import ServiceErrors

/// gRPC-Web's own encodings (grpc/doc/PROTOCOL-WEB.md): the trailer frame in the body, and the
/// base64 body of `application/grpc-web-text`.
package enum GRPCWebWire {
    /// The trailers as a frame flagged 0x80 whose payload is HTTP/1-style header lines.
    package static func trailerFrame(_ error: ServiceError?, metadata: Metadata) -> [UInt8] {
        var lines = ""
        for field in GRPCWire.trailerFields(error, metadata) { lines += "\(field.name):\(field.value)\r\n" }
        return Envelope.encode(Array(lines.utf8), flags: Envelope.grpcWebTrailers)
    }

    /// Decodes a grpc-web-text body: base64, possibly several padded pieces one after another
    /// (clients may encode each write on its own); whitespace is ignored.
    package static func decodeText(_ body: [UInt8]) throws(ServiceError) -> [UInt8] {
        var decoded: [UInt8] = []
        var piece: [UInt8] = []
        piece.reserveCapacity(body.count)
        func flush() throws(ServiceError) {
            guard !piece.isEmpty else { return }
            guard piece.count % 4 == 0, let data = Data(base64Encoded: Data(piece)) else {
                throw ServiceError(.invalidArgument, "the grpc-web-text body is not valid base64")
            }
            decoded += data
            piece.removeAll(keepingCapacity: true)
        }
        for byte in body where byte != 0x20 && byte != 0x0A && byte != 0x0D && byte != 0x09 {
            piece.append(byte)
            // A padded group of four ends a piece; the next one starts fresh.
            if byte == UInt8(ascii: "="), piece.count % 4 == 0 { try flush() }
        }
        if !piece.isEmpty, piece.count % 4 != 0 {
            piece += Array(repeating: UInt8(ascii: "="), count: 4 - piece.count % 4)
        }
        try flush()
        return decoded
    }

    package static func encodeText(_ bytes: [UInt8]) -> [UInt8] {
        Array(Data(bytes).base64EncodedData())
    }
}
