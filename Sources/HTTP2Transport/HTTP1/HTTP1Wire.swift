import NIOCore
import NIOHTTP1
import RPCCore

/// The bytes of an HTTP/1.1 response (RFC 9112): the status line and fields written straight
/// into one buffer with the body, and the framing of a chunked body.
enum HTTP1Wire {
    /// Whether every field can go on the wire as it is: names are tokens (RFC 9110 §5.1) and
    /// values hold no control character but HTAB (§5.5, as NIO's validator had it). A value
    /// carrying CR LF would let whoever shaped it add fields or a whole response of their own
    /// (response splitting).
    static func isValid(_ headers: [(name: String, value: String)]) -> Bool {
        for field in headers {
            var name = field.name, value = field.value
            guard name.withUTF8({ !$0.isEmpty && $0.allSatisfy(Self.isTokenByte) }),
                value.withUTF8({ $0.allSatisfy { $0 >= 0x20 ? $0 != 0x7F : $0 == 0x09 } })
            else { return false }
        }
        return true
    }

    /// tchar of RFC 9110 §5.6.2.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
            UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// How a body is delimited (RFC 9112 §6): the transport's to say, so the response's own
    /// `content-length` and `transfer-encoding` fields are never written, in whatever case a
    /// service spelled them (field names are case-insensitive, RFC 9110 §5.1).
    enum Framing {
        case length(Int)
        case chunked
        /// No content is allowed (1xx, 204, 304): no framing field.
        case none
        /// The body runs until the connection closes (RFC 9112 §6.3, rule 8): a streamed body
        /// to an HTTP/1.0 client, which cannot read chunked (§7.1: a server must not send
        /// `transfer-encoding` to one). No framing field.
        case untilClose
    }

    /// What the response says of the connection.
    enum Connection {
        /// Nothing: HTTP/1.1 keeps it (the response's own `connection` field, if any, goes out).
        case unsaid
        /// `connection: keep-alive`, for an HTTP/1.0 client that asked for it.
        case keepAlive
        /// `connection: close`.
        case close
    }

    /// Writes `HTTP/1.1 <status> <reason>`, the fields, the framing field, the `connection` field
    /// when one is said (replacing the response's own), and the empty line that ends the head.
    /// The fields must be valid (`isValid`).
    static func writeHead(
        status: Int, headers: [(name: String, value: String)], framing: Framing, connection: Connection,
        into buffer: inout ByteBuffer
    ) {
        Self.writeStatusLine(status, into: &buffer)
        for (name, value) in headers {
            if Self.isReplaced(name, connection: connection) { continue }
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        switch framing {
        case .length(let length):
            buffer.writeStaticString("content-length: ")
            buffer.writeString(String(length))
            buffer.writeStaticString("\r\n")
        case .chunked:
            buffer.writeStaticString("transfer-encoding: chunked\r\n")
        case .none, .untilClose:
            break
        }
        switch connection {
        case .unsaid: break
        case .keepAlive: buffer.writeStaticString("connection: keep-alive\r\n")
        case .close: buffer.writeStaticString("connection: close\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    /// Whether the response's own field `name` gives way to one `writeHead` writes: the framing
    /// fields always, `connection` when the transport says it. Only names of those lengths are
    /// compared (most fields are not lower-cased at all).
    private static func isReplaced(_ name: String, connection: Connection) -> Bool {
        switch name.utf8.count {
        case 14: name.asciiLowercased == "content-length"
        case 17: name.asciiLowercased == "transfer-encoding"
        case 10: connection != .unsaid && name.asciiLowercased == "connection"
        default: false
        }
    }

    private static func writeStatusLine(_ status: Int, into buffer: inout ByteBuffer) {
        switch status {
        case 200: buffer.writeStaticString("HTTP/1.1 200 OK\r\n")
        case 201: buffer.writeStaticString("HTTP/1.1 201 Created\r\n")
        case 204: buffer.writeStaticString("HTTP/1.1 204 No Content\r\n")
        default:
            buffer.writeStaticString("HTTP/1.1 ")
            buffer.writeString(String(status))
            buffer.writeStaticString(" ")
            buffer.writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
            buffer.writeStaticString("\r\n")
        }
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
