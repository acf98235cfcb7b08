@testable import HTTP2Transport
import NIOCore
import TestSupport
import Testing

/// `AuthorizationReuse` rewrites HEADERS frames before nghttp2 sees them. The oracle: a session
/// with the rewrite off, fed the same bytes in the same reads (all in one, and cut at seeded
/// random places), where nghttp2 decodes everything itself. Whatever the rewrite does, the
/// events (header lists, closed streams, errors) and the bytes the server sends back must be the
/// same.
@Suite("AuthorizationReuse: authorization decoded once per connection")
struct AuthorizationReuseTests {
    static let limits = HTTP2SessionLimits(maxConcurrentStreams: 100, maxHeaderListSize: 16 << 10)

    /// A JWT-shaped bearer token: long enough to be worth reusing.
    static func token(_ seed: UInt64) -> String {
        var generator = SeededGenerator(state: seed)
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
        var hits = 0
        var misses = 0
    }

    /// Read boundaries at seeded random places (one to eight cuts).
    static func randomEnds(_ count: Int, seed: UInt64) -> [Int] {
        var generator = SeededGenerator(state: seed)
        let cuts = (0..<(1 + Int(generator.next() % 8))).map { _ in 1 + Int(generator.next() % UInt64(max(1, count - 1))) }
        return Set(cuts).sorted() + [count]
    }

    /// Feeds `bytes` to a new server session, in reads that end at `ends` (all in one read when
    /// empty), with the rewrite on or off.
    static func serve(
        _ bytes: [UInt8], ends: [Int] = [], reuse: Bool = true, limits: HTTP2SessionLimits = Self.limits,
        prepare: (HTTP2Session) throws -> Void = { _ in }
    ) throws -> Outcome {
        let server = try HTTP2Session(role: .server, limits: limits, allocator: ByteBufferAllocator())
        server.reusesAuthorization = reuse
        try prepare(server)
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
        (outcome.hits, outcome.misses) = server.authorizationReuse
        return outcome
    }

    /// The rewrite on against off, in one read and in reads cut at random; returns the outcome
    /// of the one read with the rewrite on, after checking its counts where given.
    static func expectSameAsUnrewritten(
        _ bytes: [UInt8], hits: Int?, misses: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Outcome {
        let whole = try Self.serve(bytes)
        for ends in [[], Self.randomEnds(bytes.count, seed: UInt64(bytes.count)), Self.randomEnds(bytes.count, seed: 99)] {
            var on = try Self.serve(bytes, ends: ends)
            let off = try Self.serve(bytes, ends: ends, reuse: false)
            #expect(off.hits == 0 && off.misses == 0, sourceLocation: sourceLocation)
            (on.hits, on.misses) = (0, 0)
            #expect(on == off, "reads ending at \(ends)", sourceLocation: sourceLocation)
        }
        if let hits { #expect(whole.hits == hits, sourceLocation: sourceLocation) }
        if let misses { #expect(whole.misses == misses, sourceLocation: sourceLocation) }
        return whole
    }

    @Test("each stream gets the authorization its own block carried, through reuse and eviction")
    func headersWhenTokensAlternate() throws {
        // Five tokens, four remembered: 5 replaces 1, then 1 replaces 2, 2 replaces 3; 5 stays.
        let tokens = [1, 2, 1, 3, 4, 5, 1, 2, nil, 5].map { $0.map { Self.token(UInt64($0)) } }
        let requests = tokens.enumerated().map { Self.request("/s/\($0.offset)", authorization: $0.element) }
        let outcome = try Self.expectSameAsUnrewritten(try Self.clientBytes(requests), hits: 2, misses: 7)
        let authorizations = outcome.events.filter { $0.hasPrefix("headers") }.map { event in
            tokens.firstIndex { $0 != nil && event.contains("authorization: \($0!)") }
        }
        #expect(authorizations == [0, 1, 0, 3, 4, 5, 0, 1, nil, 5])
        #expect(outcome.error == nil)
    }

    @Test("a client sending the same token on many streams gets it on each")
    func headersWhenTokenRepeats() throws {
        let token = Self.token(7)
        let requests = (0..<50).map { Self.request("/s/\($0)", authorization: token) }
        let outcome = try Self.expectSameAsUnrewritten(try Self.clientBytes(requests), hits: 49, misses: 1)
        #expect(outcome.events.filter { $0.contains("authorization: \(token)") }.count == 50)
    }

    @Test("short values are left to nghttp2")
    func headersWhenValueShort() throws {
        let requests = [Self.request("/", authorization: "Bearer short")]
        let outcome = try Self.expectSameAsUnrewritten(try Self.clientBytes(requests), hits: 0, misses: 0)
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

    @Test("padded frames, frames with a priority, without indexing, two fields: all rewritten")
    func headersWhenPaddedOrPrioritized() throws {
        let token = Self.token(11)
        let field = try Self.encodedField(token)
        #expect(!field.isEmpty)
        var withoutIndexing = field
        withoutIndexing[0] = 0x0F  // the same field, literal without indexing
        let other = try Self.encodedField(Self.token(13))
        let input = Self.settings + Self.headersFrame(stream: 1, authorization: field, padding: 7)
            + Self.headersFrame(stream: 3, authorization: field, priority: true)
            + Self.headersFrame(stream: 5, authorization: field, padding: 0, priority: true)
            + Self.headersFrame(stream: 7, authorization: field)
            + Self.headersFrame(stream: 9, authorization: withoutIndexing)
            + Self.headersFrame(stream: 11, authorization: other + field)  // only the first is rewritten
        let outcome = try Self.expectSameAsUnrewritten(input, hits: 4, misses: 2)
        #expect(outcome.events.filter { $0.contains("authorization: \(token)") }.count == 6)
        #expect(outcome.events.last { $0.hasPrefix("headers 11") }?.contains("authorization: \(Self.token(13))") == true)
    }

    /// Huffman-codes `symbols` given as (code, bit length) from RFC 7541 Appendix B, padded
    /// with ones (§5.2).
    static func huffman(_ symbols: [(code: UInt32, bits: Int)]) -> [UInt8] {
        var bytes: [UInt8] = []
        var accumulator: UInt64 = 0
        var count = 0
        for symbol in symbols {
            accumulator = accumulator << symbol.bits | UInt64(symbol.code)
            count += symbol.bits
            while count >= 8 {
                count -= 8
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> count))
            }
        }
        if count > 0 { bytes.append(UInt8(truncatingIfNeeded: accumulator << (8 - count)) | UInt8(0xFF >> count)) }
        return bytes
    }

    @Test("the header list limit counts decoded bytes, also where they are not UTF-8")
    func headerListTooLargeWhenValueNotUTF8() throws {
        // 60 × "a" (00011, 5 bits), then 4 × 0xFF (3ffffee, 26 bits): obs-text, which RFC 9113
        // allows and a String holds as U+FFFD (3 bytes each).
        let encoded = Self.huffman(Array(repeating: (0x3, 5), count: 60) + Array(repeating: (0x3ff_ffee, 26), count: 4))
        #expect(encoded.count >= AuthorizationReuse.minEncodedLength && encoded.count < 127)
        let field = [0x1F, 0x08, 0x80 | UInt8(encoded.count)] + encoded
        let input = Self.settings + Self.headersFrame(stream: 1, authorization: field)
            + Self.headersFrame(stream: 3, authorization: field)
        // Decoded as expected (by nghttp2 alone): the 64-byte value, which the list counts.
        let plain = try Self.serve(input, reuse: false)
        let value = String(repeating: "a", count: 60) + String(repeating: "\u{FFFD}", count: 4)
        #expect(plain.events.filter { $0.contains("authorization: \(value)") }.count == 2)
        // The list: :method GET, :scheme http, :path /, :authority a, and the value: 275 bytes.
        // Every limit around it must give the same verdict with the rewrite on.
        for maxHeaderListSize in 260...300 {
            var limits = Self.limits
            limits.maxHeaderListSize = maxHeaderListSize
            var on = try Self.serve(input, limits: limits)
            let off = try Self.serve(input, reuse: false, limits: limits)
            #expect(on.hits == 1 && on.misses == 1)
            (on.hits, on.misses) = (0, 0)
            #expect(on == off, "limit \(maxHeaderListSize)")
            #expect(off.events.contains { $0.hasPrefix("too large 1") } == (maxHeaderListSize < 275), "limit \(maxHeaderListSize)")
        }
    }

    @Test("after the client's GOAWAY, a read reaches nghttp2 in one piece, as without the rewrite")
    func headersWhenPeerWentAway() throws {
        let field = try Self.encodedField(Self.token(14))
        let goAway: [UInt8] = [0, 0, 8, 0x7, 0, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0]
        let ping: [UInt8] = [0, 0, 8, 0x6, 0, 0, 0, 0, 0] + [1, 2, 3, 4, 5, 6, 7, 8]
        let input = Self.settings + goAway + Self.headersFrame(stream: 1, authorization: field) + ping
        let outcome = try Self.expectSameAsUnrewritten(input, hits: 0, misses: 0)
        #expect(outcome.events.contains { $0.hasPrefix("headers 1") })
    }

    @Test("after our GOAWAY, nothing is rewritten and the outcome is nghttp2's")
    func headersWhenWentAway() throws {
        let field = try Self.encodedField(Self.token(15))
        // A graceful shutdown with one call open: our GOAWAY is out; then, in one read, the client
        // resets that call (no stream is open any more), opens another and PINGs.
        let goAway: (HTTP2Session) throws -> Void = { server in
            try server.receive(ByteBuffer(bytes: Self.settings + Self.headersFrame(stream: 1, authorization: field, flags: 0x4)))
            server.drainEvents { _ in }
            server.goAway()
            var output = ByteBuffer()
            try server.pendingOutput(into: &output)
        }
        let reset: [UInt8] = [0, 0, 4, 0x3, 0, 0, 0, 0, 1] + [0, 0, 0, 8]
        let ping: [UInt8] = [0, 0, 8, 0x6, 0, 0, 0, 0, 0] + [1, 2, 3, 4, 5, 6, 7, 8]
        let input = reset + Self.headersFrame(stream: 3, authorization: field) + ping
        let on = try Self.serve(input, prepare: goAway)
        var off = try Self.serve(input, reuse: false, prepare: goAway)
        // Stream 1's block was rewritten before the GOAWAY; nothing after it (a draining
        // connection gains nothing from the rewrite, and reads whole as nghttp2 expects them).
        #expect(on.hits == 0 && on.misses == 1)
        off.misses = 1
        #expect(on == off)
        // nghttp2 alone stops at the reset: no stream open and our GOAWAY out, it reads no more.
        #expect(off.events == ["closed 1 8"] && off.output.isEmpty)
    }

    @Test("a connection whose tokens never repeat stops trying, and still gets each one right")
    func headersWhenTokensNeverRepeat() throws {
        let tokens = (100..<130).map { Self.token(UInt64($0)) }
        let requests = tokens.enumerated().map { Self.request("/n/\($0.offset)", authorization: $0.element) }
        let outcome = try Self.expectSameAsUnrewritten(
            try Self.clientBytes(requests), hits: 0, misses: AuthorizationReuse.maxExtraMisses + 1
        )
        for (index, token) in tokens.enumerated() {
            #expect(outcome.events.contains { $0.hasPrefix("headers \(2 * index + 1) ") && $0.contains("authorization: \(token)") })
        }
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
        case 2: field = withValue([UInt8](repeating: 0xFF, count: value.count))  // starts with EOS (30 ones)
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
        let outcome = try Self.expectSameAsUnrewritten(input, hits: [4, 5, 6].contains(variant) ? nil : 0)
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
        var generator = SeededGenerator(state: seed)
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
            let outcome = try Self.expectSameAsUnrewritten(mutant, hits: nil)
            rewritten += outcome.hits
        }
        // The mutants still exercised the rewrite: values were found remembered.
        #expect(rewritten > 150)
    }
}
