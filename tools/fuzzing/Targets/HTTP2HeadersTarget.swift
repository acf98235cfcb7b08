@testable import HTTP2Transport
import NIOCore

/// `AuthorizationReuse` against nghttp2 alone: the same client bytes go to two server
/// `HTTP2Session`s, one in a single read (whole HEADERS frames are rewritten) and one in reads
/// that end one byte into each frame's payload (no frame is whole, so none is rewritten). The
/// header lists, closed streams, errors and the bytes each server sends back must be the same.
///
/// Input: bytes after the client preface, as they are (frame headers included: the rewrite must
/// survive lengths and flags that lie).
enum HTTP2HeadersTarget {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    static let limits = HTTP2SessionLimits(maxConcurrentStreams: 16, maxHeaderListSize: 4096)

    @Sendable static func run(_ bytes: UnsafeRawBufferPointer) {
        let input = Self.preface + Array(bytes)
        var ends: [Int] = []
        var position = Self.preface.count
        while position + 9 <= input.count {
            ends.append(position + 10)
            position += 9 + (Int(input[position]) << 16 | Int(input[position + 1]) << 8 | Int(input[position + 2]))
            ends.append(position)
        }
        let whole = Self.serve(input, ends: [input.count])
        let split = Self.serve(input, ends: ends + [input.count])
        precondition(whole == split, "rewritten: \(whole)\nnot rewritten: \(split)")
    }

    /// What a server session did with `input` fed in reads ending at `ends`: its events (DATA
    /// joined per stream: reads cut it differently), error, and output.
    static func serve(_ input: [UInt8], ends: [Int]) -> [String] {
        guard let server = try? HTTP2Session(role: .server, limits: Self.limits, allocator: ByteBufferAllocator()) else {
            preconditionFailure("session")
        }
        var record: [String] = []
        var data: [Int32: [UInt8]] = [:]
        var start = 0
        for end in ends where end > start && end <= input.count {
            do {
                try server.receive(ByteBuffer(bytes: input[start..<end]))
            } catch {
                record.append("error \(error.code)")
            }
            start = end
            server.drainEvents { event in
                if case .data(let streamID, let bytes) = event {
                    data[streamID, default: []] += Array(bytes.readableBytesView)
                } else {
                    record.append("\(event)")
                }
            }
            if record.last?.hasPrefix("error") == true { break }
        }
        var output = ByteBuffer()
        try? server.pendingOutput(into: &output)
        record.append("data \(data.sorted { $0.key < $1.key })")
        record.append("output \(Array(output.readableBytesView))")
        return record
    }

    static var seeds: [[UInt8]] {
        // A real client's requests (nghttp2's encoder: `authorization` never indexed, Huffman).
        guard let client = try? HTTP2Session(role: .client, limits: Self.limits, allocator: ByteBufferAllocator()) else {
            return []
        }
        let token = "Bearer eyJhbGciOiJIUzI1NiJ9." + String(repeating: "eyJzdWIiOiJ0ZXN0ZXIifQ", count: 5)
        for (index, authorization) in [token, token, "Bearer other-" + token.dropFirst(20), token].enumerated() {
            _ = try? client.submitRequest(
                headers: [(":method", "POST"), (":scheme", "http"), (":path", "/s/\(index)"), (":authority", "a"),
                    ("authorization", String(authorization)), ("te", "trailers")].map { (name: $0.0, value: $0.1) },
                endStream: index % 2 == 0
            )
        }
        var output = ByteBuffer()
        try? client.pendingOutput(into: &output)
        return [Array(output.readableBytesView.dropFirst(Self.preface.count))]
    }
}
