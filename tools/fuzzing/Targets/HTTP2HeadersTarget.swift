@testable import HTTP2Transport
import NIOCore

/// `AuthorizationReuse` against nghttp2 alone: the same client bytes go to server
/// `HTTP2Session`s with the rewrite on and off, in the same reads: all in one, and cut where the
/// input's first byte says. The header lists, closed streams, errors and the bytes each server
/// sends back must be the same.
///
/// Input: one byte choosing the cuts, then bytes after the client preface, as they are (frame
/// headers included: the rewrite must survive lengths and flags that lie).
enum HTTP2HeadersTarget {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    static let limits = HTTP2SessionLimits(maxConcurrentStreams: 16, maxHeaderListSize: 4096)

    @Sendable static func run(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzInput(bytes)
        let cut = Int(input.byte())
        let client = Self.preface + Array(input.rest)
        // Reads of `cut` bytes after the preface (0: one read).
        let ends = cut == 0
            ? [client.count]
            : Array(stride(from: Self.preface.count, to: client.count, by: cut)) + [client.count]
        for ends in [[client.count], ends] {
            let on = Self.serve(client, ends: ends, reuse: true)
            let off = Self.serve(client, ends: ends, reuse: false)
            precondition(on == off, "rewritten: \(on)\nnot rewritten: \(off)")
        }
    }

    /// What a server session did with `input` fed in reads ending at `ends`: its events (DATA
    /// joined per stream), error, and output.
    static func serve(_ input: [UInt8], ends: [Int], reuse: Bool) -> [String] {
        guard let server = try? HTTP2Session(role: .server, limits: Self.limits, allocator: ByteBufferAllocator()) else {
            preconditionFailure("session")
        }
        server.reusesAuthorization = reuse
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
        let frames = Array(output.readableBytesView.dropFirst(Self.preface.count))
        return [[0] + frames, [7] + frames]
    }
}
