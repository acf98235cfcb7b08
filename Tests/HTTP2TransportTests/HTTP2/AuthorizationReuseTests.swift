@testable import HTTP2Transport
import NIOCore
import Testing

/// `AuthorizationReuse` rewrites HEADERS frames before nghttp2 sees them. The oracle: the same
/// bytes fed in reads that end one byte into every frame's payload, so no frame is ever whole in
/// a read, none is rewritten, and nghttp2 decodes everything itself. (Not one byte per read:
/// nghttp2 1.52 then counts a CONTINUATION once per read of its header, and refuses a
/// connection the whole read does not.) Whatever the rewrite does, the events (header lists,
/// closed streams, errors) and the bytes the server sends back must be the same.
@Suite("AuthorizationReuse: authorization decoded once per connection")
struct AuthorizationReuseTests {
    static let limits = HTTP2SessionLimits(maxConcurrentStreams: 100, maxHeaderListSize: 16 << 10)

    /// A JWT-shaped bearer token: long enough to be worth reusing.
    static func token(_ seed: UInt64) -> String {
        var generator = SeededGenerator(seed: seed)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return "Bearer eyJhbGciOiJIUzI1NiJ9." + String((0..<160).map { _ in alphabet[Int(generator.next() % 64)] })
    }

    static func request(_ path: String, authorization: String?) -> [(name: String, value: String)] {
        var fields = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "a"),
            ("content-type", "application/grpc"), ("te", "trailers")].map { (name: $0.0, value: $0.1) }
        if let authorization { fields.append((name: "authorization", value: authorization)) }
        fields.append((name: "user-agent", value: "test"))
        return fields
    }

    /// What a real nghttp2 client sends for these requests (preface, SETTINGS, HEADERS…); its
    /// encoder sends `authorization` never indexed, with a Huffman-coded value.
    static func clientBytes(_ requests: [[(name: String, value: String)]]) throws -> [UInt8] {
        let client = try HTTP2Session(role: .client, limits: Self.limits, allocator: ByteBufferAllocator())
        for request in requests {
            _ = try client.submitRequest(headers: request, endStream: true)
        }
        var output = ByteBuffer()
        try client.pendingOutput(into: &output)
        return Array(output.readableBytesView)
    }

    struct Outcome: Equatable {
        var events: [String] = []
        var error: Int32?
        var output: [UInt8] = []
        /// The RST_STREAM (stream, error code) and GOAWAY (error code) frames in `output`.
        var refusals: [String] = []
        var reused = 0
    }

    /// Read boundaries that leave no frame whole in a read: one byte into each payload.
    static func splitPayloads(_ bytes: [UInt8]) -> [Int] {
        var ends: [Int] = [24]
        var position = 24
        while position + 9 <= bytes.count {
            let length = Int(bytes[position]) << 16 | Int(bytes[position + 1]) << 8 | Int(bytes[position + 2])
            ends.append(min(bytes.count, position + 10))
            position += 9 + length
            ends.append(min(bytes.count, position))
        }
        ends.append(bytes.count)
        return ends
    }

    /// Feeds `bytes` to a new server session, in reads that end at `ends` (all in one read when
    /// empty).
    static func serve(_ bytes: [UInt8], ends: [Int] = []) throws -> Outcome {
        let server = try HTTP2Session(role: .server, limits: Self.limits, allocator: ByteBufferAllocator())
        var outcome = Outcome()
        var start = 0
        var ends = ends.isEmpty ? [bytes.count] : ends
        while start < bytes.count, outcome.error == nil {
            let end = ends.removeFirst()
            guard end > start else { continue }
            do {
                try server.receive(ByteBuffer(bytes: bytes[start..<end]))
            } catch {
                outcome.error = error.code
            }
            server.drainEvents { event in
                switch event {
                case .headers(let streamID, let fields, let endStream):
                    outcome.events.append("headers \(streamID) \(fields.map { "\($0.name): \($0.value)" }) \(endStream)")
                case .data(let streamID, let bytes):
                    // Reads split DATA differently; compare the bytes, not the pieces.
                    outcome.events.append("data \(streamID) \(Array(bytes.readableBytesView))")
                case .endStream(let streamID):
                    outcome.events.append("end \(streamID)")
                case .streamClosed(let streamID, let errorCode):
                    outcome.events.append("closed \(streamID) \(errorCode)")
                case .goAway:
                    outcome.events.append("goaway")
                case .headerListTooLarge(let streamID):
                    outcome.events.append("too large \(streamID)")
                }
            }
            start = end
        }
        var output = ByteBuffer()
        try? server.pendingOutput(into: &output)
        outcome.output = Array(output.readableBytesView)
        var position = 0
        while position + 9 <= outcome.output.count {
            let length = Int(outcome.output[position + 1]) << 8 | Int(outcome.output[position + 2])
            let type = outcome.output[position + 3]
            let payload = outcome.output[(position + 9)...]
            if type == 0x3 { outcome.refusals.append("RST_STREAM \(outcome.output[position + 8]) \(payload[payload.startIndex + 3])") }
            if type == 0x7 { outcome.refusals.append("GOAWAY \(payload[payload.startIndex + 7])") }
            position += 9 + length
        }
        outcome.reused = server.reusedAuthorizations
        return outcome
    }

    /// The whole input in one read against reads that split every frame.
    static func expectSameAsUnrewritten(_ bytes: [UInt8], reused: Int?, sourceLocation: SourceLocation = #_sourceLocation) throws -> Outcome {
        let whole = try Self.serve(bytes)
        var byByte = try Self.serve(bytes, ends: Self.splitPayloads(bytes))
        #expect(byByte.reused == 0, sourceLocation: sourceLocation)
        if let reused { #expect(whole.reused == reused, sourceLocation: sourceLocation) }
        byByte.reused = whole.reused
        #expect(whole == byByte, sourceLocation: sourceLocation)
        return whole
    }

    @Test("each stream gets the authorization its own block carried, through reuse and eviction")
    func headersWhenTokensAlternate() throws {
        // Three tokens on one connection, two remembered at a time: hits, misses and evictions.
        let tokens = [Self.token(1), Self.token(2), Self.token(1), Self.token(3), Self.token(1), Self.token(2),
            Self.token(2), nil, Self.token(3)]
        let requests = tokens.enumerated().map { Self.request("/s/\($0.offset)", authorization: $0.element) }
        let outcome = try Self.expectSameAsUnrewritten(try Self.clientBytes(requests), reused: 8)
        let authorizations = outcome.events.filter { $0.hasPrefix("headers") }.map { event in
            tokens.firstIndex { $0 != nil && event.contains("authorization: \($0!)") }
        }
        #expect(authorizations == [0, 1, 0, 3, 0, 1, 1, nil, 3])
        #expect(outcome.error == nil)
    }

    @Test("a client sending the same token on many streams gets it on each")
    func headersWhenTokenRepeats() throws {
        let token = Self.token(7)
        let requests = (0..<50).map { Self.request("/s/\($0)", authorization: token) }
        let outcome = try Self.expectSameAsUnrewritten(try Self.clientBytes(requests), reused: 50)
        #expect(outcome.events.filter { $0.contains("authorization: \(token)") }.count == 50)
    }

    @Test("short values are left to nghttp2")
    func headersWhenValueShort() throws {
        let requests = [Self.request("/", authorization: "Bearer short")]
        let outcome = try Self.expectSameAsUnrewritten(try Self.clientBytes(requests), reused: 0)
        #expect(outcome.events.contains { $0.contains("authorization: Bearer short") })
    }

    /// A hand-made HEADERS frame: plain literal pseudo-headers, then `authorization` as
    /// `representation` (first byte and name index already in it), then `value`.
    static func headersFrame(
        stream: UInt8, authorization: [UInt8], flags: UInt8 = 0x5, padding: Int? = nil, priority: Bool = false
    ) -> [UInt8] {
        var block: [UInt8] = []
        for (name, value) in [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "a")] {
            block += [0x00, UInt8(name.utf8.count)] + Array(name.utf8) + [UInt8(value.utf8.count)] + Array(value.utf8)
        }
        block += authorization
        var payload: [UInt8] = []
        var flags = flags
        if let padding {
            flags |= 0x8
            payload.append(UInt8(padding))
        }
        if priority {
            flags |= 0x20
            payload += [0, 0, 0, 0, 16]
        }
        payload += block
        payload += [UInt8](repeating: 0, count: max(0, padding ?? 0))
        return [UInt8(payload.count >> 16), UInt8(payload.count >> 8 & 0xff), UInt8(payload.count & 0xff), 0x1, flags,
            0, 0, 0, stream] + payload
    }

    /// The never-indexed `authorization` field a real client encodes for `token`.
    static func encodedField(_ token: String) throws -> [UInt8] {
        let bytes = try Self.clientBytes([Self.request("/", authorization: token)])
        var scanner = InboundFrameScanner()
        return bytes.withUnsafeBytes { raw -> [UInt8] in
            var from = 0
            while let frame = scanner.nextFrame(in: raw, from: from) {
                from = frame.resumeAt
                guard frame.kind == .headers else { continue }
                let block = UnsafeRawBufferPointer(rebasing: raw[frame.resumeAt..<frame.resumeAt + frame.length])
                guard let literal = HPACKBlockScan.firstAuthorizationLiteral(in: block) else { return [] }
                #expect(literal.kind == 0x10)  // never indexed
                return Array(block[literal.field])
            }
            return []
        }
    }

    static let settings: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 0x4, 0, 0, 0, 0, 0]

    @Test("padded frames and frames with a priority are rewritten; their padding is kept")
    func headersWhenPaddedOrPrioritized() throws {
        let token = Self.token(11)
        let field = try Self.encodedField(token)
        #expect(!field.isEmpty)
        let input = Self.settings + Self.headersFrame(stream: 1, authorization: field, padding: 7)
            + Self.headersFrame(stream: 3, authorization: field, priority: true)
            + Self.headersFrame(stream: 5, authorization: field, padding: 0, priority: true)
            + Self.headersFrame(stream: 7, authorization: field)
        let outcome = try Self.expectSameAsUnrewritten(input, reused: 4)
        #expect(outcome.events.filter { $0.contains("authorization: \(token)") }.count == 4)
    }

    @Test("what nghttp2 refuses is left for nghttp2 to refuse", arguments: 0..<9)
    func headersWhenInvalid(variant: Int) throws {
        let token = Self.token(12)
        var field = try Self.encodedField(token)
        // [0x1F, 0x08, 0xFF, length - 127] then the Huffman bytes (more than 127 of them).
        #expect(field.count > 130 && field[2] == 0xFF)
        let value = Array(field[4...])
        func withValue(_ value: [UInt8], claimed: Int? = nil) -> [UInt8] {
            Array(field[0..<2]) + [0xFF, UInt8((claimed ?? value.count) - 127)] + value
        }
        switch variant {
        case 0: field = withValue(value + [0xFF])  // padding longer than 7 bits (RFC 7541 §5.2)
        case 1:
            field = withValue(value.dropLast() + [0])  // padding not all ones, or other symbols
        case 2: field = withValue(Array(value.prefix(60)) + [0xFF, 0xFF, 0xFF, 0xFF] + value.dropFirst(64))  // EOS
        case 3: field = withValue(value, claimed: value.count + 20)  // runs past the block
        case 7: field = try Self.encodedField(" " + token)  // leading whitespace (RFC 9113 §8.2.1)
        case 8: field = try Self.encodedField(token + "\u{1}")  // a control character
        default: break
        }
        var frames = Self.headersFrame(stream: 1, authorization: field)
        switch variant {
        case 4: frames[4] |= 0x8  // PADDED, with a pad length (the first payload byte, 0) then larger than the rest
            frames.insert(250, at: 9)
            frames[2] += 1
        case 5: frames[4] &= ~0x4  // no END_HEADERS, and a HEADERS instead of a CONTINUATION next
        case 6: frames[8] = 2  // an even stream ID
        default: break
        }
        let input = Self.settings + frames + Self.headersFrame(stream: 3, authorization: field)
        let outcome = try Self.expectSameAsUnrewritten(input, reused: [0, 2, 3].contains(variant) ? 0 : nil)
        let expected = switch variant {
        case 0, 1, 2, 3: ["GOAWAY 9"]  // COMPRESSION_ERROR
        case 4, 5, 6: ["GOAWAY 1"]  // PROTOCOL_ERROR
        default: ["RST_STREAM 1 1", "RST_STREAM 3 1"]  // a malformed request (RFC 9113 §8.1.1)
        }
        #expect(outcome.refusals == expected)
        #expect(outcome.events.filter { $0.hasPrefix("headers") }.isEmpty)
    }

    /// The attacker's version of the tests above: a real client's stream of requests with bytes
    /// of its HEADERS payloads changed at random (lengths, flags, Huffman bits, indexes), each
    /// mutant fed whole and split. Seeded, so a failure reproduces.
    @Test("random changes to the header blocks: the same outcome as nghttp2 alone", arguments: 0..<4)
    func headersWhenMutated(seed: UInt64) throws {
        let tokens = [Self.token(21), Self.token(22)]
        let requests = (0..<6).map { Self.request("/m/\($0)", authorization: tokens[$0 % 2]) }
        let original = try Self.clientBytes(requests)
        // Where HEADERS payloads lie, so most changes land in header blocks.
        var payloads: [Range<Int>] = []
        var scanner = InboundFrameScanner()
        original.withUnsafeBytes { raw in
            var from = 0
            while let frame = scanner.nextFrame(in: raw, from: from) {
                from = frame.resumeAt
                if frame.kind == .headers { payloads.append(frame.resumeAt - 9..<frame.resumeAt + frame.length) }
            }
        }
        #expect(payloads.count == 6)
        var generator = SeededGenerator(seed: seed)
        var rewritten = 0
        for _ in 0..<150 {
            var mutant = original
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let range = payloads[Int(generator.next() % UInt64(payloads.count))]
                let at = range.lowerBound + Int(generator.next() % UInt64(range.count))
                switch generator.next() % 3 {
                case 0: mutant[at] ^= UInt8(1 << (generator.next() % 8))
                case 1: mutant[at] = UInt8(truncatingIfNeeded: generator.next())
                default: mutant[at] = [0x00, 0x0F, 0x10, 0x1F, 0x7F, 0x80, 0xFF][Int(generator.next() % 7)]
                }
            }
            let outcome = try Self.expectSameAsUnrewritten(mutant, reused: nil)
            rewritten += outcome.reused
        }
        // The mutants still exercised the rewrite (most frames stay rewritable).
        #expect(rewritten > 150)
    }
}

/// SplitMix64: a fixed sequence, so the tokens are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
