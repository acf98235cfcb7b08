import Testing

@testable import HTTP2Transport

/// The field check before a response goes out (`HTTP1Wire.isValid`), byte by byte against the
/// grammar of RFC 9110 §5.1 and §5.5.
@Suite("HTTP/1.1 response fields")
struct HTTP1WireTests {
    static let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    @Test("a field name passes only when every byte is a tchar, and is never empty")
    func everyNameByteWhenChecked() {
        for byte in UInt8(0)..<0x80 {
            let name = String(decoding: [UInt8(ascii: "x"), byte], as: UTF8.self)
            #expect(HTTP1Wire.isValid([(name, "v")]) == Self.tchar.contains(byte), "byte \(byte)")
        }
        #expect(!HTTP1Wire.isValid([("", "v")]))
        #expect(!HTTP1Wire.isValid([("é", "v")]))
    }

    @Test("a field value passes unless it holds a control character other than HTAB")
    func everyValueByteWhenChecked() {
        for byte in UInt8(0)..<0x80 {
            let value = String(decoding: [UInt8(ascii: "v"), byte, UInt8(ascii: "w")], as: UTF8.self)
            let allowed = byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
            #expect(HTTP1Wire.isValid([("x-field", value)]) == allowed, "byte \(byte)")
        }
        #expect(HTTP1Wire.isValid([("x-field", "é, ü"), ("x-empty", "")]))
        // One bad field among good ones fails the whole response.
        #expect(!HTTP1Wire.isValid([("a", "1"), ("b", "2\r\nset-cookie: x=1"), ("c", "3")]))
    }
}
