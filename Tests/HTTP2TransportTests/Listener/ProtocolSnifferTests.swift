import NIOCore
import Testing

@testable import HTTP2Transport

@Suite("ProtocolSniffer: what a connection's first bytes say")
struct ProtocolSnifferTests {
    static func verdict(_ text: String) -> ProtocolSniffer.Verdict {
        ProtocolSniffer.classify(ByteBuffer(string: text).readableBytesView)
    }

    @Test("the HTTP/2 preface, whole or in part", arguments: [
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ProtocolSniffer.Verdict.http2),
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\u{4}", .http2),
        ("", .needMore),
        ("P", .needMore),
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n", .needMore),
    ])
    func prefaceWhenComplete(text: String, expected: ProtocolSniffer.Verdict) {
        #expect(Self.verdict(text) == expected)
    }

    @Test("a broken preface that was meant as HTTP/2 is told apart from HTTP/1.1", arguments: [
        ("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", ProtocolSniffer.Verdict.brokenHTTP2Preface),
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n\rQ", .brokenHTTP2Preface),
        ("PRI * HTTP/2.0 ", .brokenHTTP2Preface),
        ("GET / HTTP/1.1\r\n", .http1),
        ("PRI / HTTP/1.1\r\n", .http1),
        ("INVALID CONNECTION PREFACE\r\n\r\n", .http1),
    ])
    func prefaceWhenBroken(text: String, expected: ProtocolSniffer.Verdict) {
        #expect(Self.verdict(text) == expected)
    }

    @Test("the GOAWAY for a broken preface: last stream 0, PROTOCOL_ERROR")
    func goAwayBytes() {
        let frame = ProtocolSniffer.goAwayProtocolError(ByteBufferAllocator())
        #expect(Array(frame.readableBytesView) == [0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    }
}
