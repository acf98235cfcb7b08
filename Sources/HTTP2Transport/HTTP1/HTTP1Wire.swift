import NIOCore
import NIOHTTP1

/// The bytes of an HTTP/1.1 response (RFC 9112): the status line and fields written straight
/// into one buffer with the body, and the framing of a chunked body.
enum HTTP1Wire {
    /// Whether every field can go on the wire as it is: names are tokens (RFC 9110 §5.1) and
    /// values hold no CR, LF or NUL (§5.5). A value carrying CR LF would let whoever shaped it
    /// add fields or a whole response of their own (response splitting).
    static func isValid(_ headers: [(name: String, value: String)]) -> Bool {
        headers.allSatisfy { field in
            !field.name.isEmpty && field.name.utf8.allSatisfy { Self.tokenBytes[Int($0)] }
                && field.value.utf8.allSatisfy { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") && $0 != 0 }
        }
    }

    /// tchar of RFC 9110 §5.6.2, by byte.
    private static let tokenBytes: [Bool] = (0...255).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(UInt8(byte))
        }
    }

    /// Writes `HTTP/1.1 <status> <reason>`, the fields, and the empty line that ends the head.
    /// The fields must be valid (`isValid`).
    static func writeHead(status: Int, headers: [(name: String, value: String)], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(status))
        buffer.writeStaticString(" ")
        buffer.writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
        buffer.writeStaticString("\r\n")
        for (name, value) in headers {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    /// The interim response to `Expect: 100-continue` (RFC 9110 §15.2.1).
    static let continueHead = "HTTP/1.1 100 Continue\r\n\r\n"

    /// One chunk of a chunked body (RFC 9112 §7.1); `bytes` must not be empty, which would end it.
    static func writeChunk(_ bytes: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeString(String(bytes.count, radix: 16))
        buffer.writeStaticString("\r\n")
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    /// The last chunk, without trailers.
    static let lastChunk = "0\r\n\r\n"
}
