import Testing

@testable import HTTP2Transport

@Suite("InboundFrameScanner: where DATA frames begin, across reads")
struct InboundFrameScannerTests {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    static func frame(type: UInt8, stream: UInt32, payload: Int) -> [UInt8] {
        [UInt8(payload >> 16 & 0xff), UInt8(payload >> 8 & 0xff), UInt8(payload & 0xff), type, 0,
            UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)]
            + [UInt8](repeating: 0xAB, count: payload)
    }

    /// Every DATA frame the scanner reports for `bytes` cut into pieces of `chunk` bytes, as
    /// (stream ID, offset of the check point in the whole input).
    static func scan(_ bytes: [UInt8], chunk: Int) -> [(Int32, Int)] {
        var scanner = InboundFrameScanner()
        var found: [(Int32, Int)] = []
        var base = 0
        while base < bytes.count {
            let piece = Array(bytes[base..<min(bytes.count, base + chunk)])
            piece.withUnsafeBytes { raw in
                var from = 0
                while let frame = scanner.nextFrame(in: raw, from: from) {
                    from = frame.resumeAt
                    guard frame.kind == .data else { continue }
                    found.append((frame.streamID, base + frame.checkAt))
                }
            }
            base += chunk
        }
        return found
    }

    @Test("finds each DATA frame's header after the preface, whatever the read sizes", arguments: [1, 2, 7, 9, 10, 64, 100_000])
    func dataWhenSplitAnywhere(chunk: Int) {
        let settings = Self.frame(type: 4, stream: 0, payload: 6)
        let headers = Self.frame(type: 1, stream: 1, payload: 20)
        let data1 = Self.frame(type: 0, stream: 1, payload: 300)
        let data3 = Self.frame(type: 0, stream: 0x7fff_fff1, payload: 0)
        // A payload that looks like a DATA header must not be taken for one.
        let ping = Self.frame(type: 6, stream: 0, payload: 8)
        let input = Self.preface + settings + headers + data1 + ping + data3
        let found = Self.scan(input, chunk: chunk)
        let dataOffset = Self.preface.count + settings.count + headers.count
        let expectedStarts = [dataOffset, dataOffset + data1.count + ping.count]
        #expect(found.map(\.0) == [1, 0x7fff_fff1])
        // The check point is the header's start, or the start of the read its last byte is in
        // (when the header began in an earlier read, nghttp2 has not acted on it yet).
        let expected = expectedStarts.map { start in max(start, (start + 8) / chunk * chunk) }
        #expect(found.map(\.1) == expected)
    }

    @Test("no DATA, no report; the reserved bit of the stream ID is ignored")
    func dataWhenAbsent() {
        #expect(Self.scan(Self.preface + Self.frame(type: 1, stream: 1, payload: 4), chunk: 1000).isEmpty)
        var reserved = Self.frame(type: 0, stream: 3, payload: 1)
        reserved[5] |= 0x80
        #expect(Self.scan(Self.preface + reserved, chunk: 1000).map(\.0) == [3])
    }

    @Test("HEADERS frames are reported with their flags and length, whole or not")
    func headersWhenWholeOrSplit() {
        var scanner = InboundFrameScanner()
        var headers = Self.frame(type: 1, stream: 5, payload: 10)
        headers[4] = 0x25
        let input = Self.preface + headers + Self.frame(type: 1, stream: 7, payload: 4)
        input.withUnsafeBytes { raw in
            let first = scanner.nextFrame(in: raw, from: 0)
            #expect(first == InboundFrameScanner.Frame(kind: .headers, checkAt: 24, resumeAt: 33, streamID: 5, flags: 0x25, length: 10))
            #expect(first?.isWhole(in: raw) == true)
            // The same frame cut short: not whole.
            #expect(first?.isWhole(in: UnsafeRawBufferPointer(rebasing: raw[0..<42])) == false)
            let second = scanner.nextFrame(in: raw, from: first!.resumeAt)
            #expect(second?.streamID == 7 && second?.isWhole(in: raw) == true)
        }
        // A header split across reads is found, but is not whole in the read it ends in.
        var split = InboundFrameScanner()
        let bytes = Self.preface + headers
        let firstPart = Array(bytes[0..<28])
        let secondPart = Array(bytes[28...])
        firstPart.withUnsafeBytes { #expect(split.nextFrame(in: $0, from: 0) == nil) }
        secondPart.withUnsafeBytes { raw in
            let frame = split.nextFrame(in: raw, from: 0)
            #expect(frame?.checkAt == 0 && frame?.resumeAt == 5 && frame?.isWhole(in: raw) == false)
        }
    }
}
