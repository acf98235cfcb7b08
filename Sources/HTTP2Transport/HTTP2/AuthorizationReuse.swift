import Foundation

/// Skips decoding a client's `authorization` value again on every request of a connection.
///
/// nghttp2's encoder (h2load, curl, nghttpx…) sends `authorization` as a never-indexed literal
/// with a Huffman-coded value (RFC 7541 §7.1.3), so a server decodes the same ~190-byte token on
/// every call: 11 % of a unary gRPC call's CPU (`tools/bench/profile.sh grpc`). Here, a HEADERS
/// frame that carries one is rewritten before nghttp2 sees it: the field becomes the same name
/// with `marker` as a plain value (a literal of the same kind, so HPACK's dynamic table evolves
/// exactly as it would have), and the caller puts the value back when nghttp2 hands the marker
/// over. Values are remembered by their encoded bytes; a new one is decoded by nghttp2's own
/// decoder (`HPACKLiteralDecoder`), so what the application sees is unchanged byte for byte,
/// and anything nghttp2 would refuse is left in the frame for nghttp2 to refuse.
///
/// Only whole HEADERS frames with END_HEADERS of up to `maxFrameLength` bytes are rewritten
/// (they only shrink: the marker's field is shorter than any value of `minEncodedLength`, so no
/// frame size limit changes its verdict); the rest pass unchanged. A connection whose values
/// rarely repeat (a proxy sending many users' tokens) stops trying after `misses` outnumber
/// twice the hits by `maxExtraMisses`, so it pays for at most that many extra decodes.
///
/// Held per connection: at most `capacity` values of up to `maxEncodedLength` encoded bytes
/// each (and their decoded strings, at most 8/5 as long: no Huffman code is shorter than 5
/// bits), and the last rewritten frame's storage while it is small.
struct AuthorizationReuse {
    /// Unguessable, never sent anywhere: a client cannot forge a field the caller would fill in.
    static let marker: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        return (0..<24).map { _ in digits[Int(generator.next() % 16)] }
    }()

    static let capacity = 4
    static let maxExtraMisses = 8
    static let maxEncodedLength = 1024
    /// Shorter values cost nghttp2 little to decode; the rewrite would not pay. (It also keeps
    /// every rewritten field, at least 2 + 2 + 48 bytes, longer than the marker's 3 + 24.)
    static let minEncodedLength = 48
    static let maxFrameLength = 4096

    private static let endHeaders: UInt8 = 0x4
    private static let padded: UInt8 = 0x8
    private static let priority: UInt8 = 0x20

    /// A value as nghttp2 decoded it: the string the application gets, and the decoded byte
    /// count (what the header list size counts; the string may be longer where invalid UTF-8
    /// became U+FFFD).
    struct Value {
        var string: String
        var count: Int
    }

    private var known: [(encoded: [UInt8], value: Value)] = []
    private var oldest = 0
    /// The last rewritten frame, header included.
    private(set) var frame: [UInt8] = []
    /// Values found remembered, and values decoded (or refused) here.
    private(set) var hits = 0
    private(set) var misses = 0
    /// Set once misses outnumber hits as above: no more rewrites on this connection.
    private(set) var stopped = false

    /// When `frame` (a HEADERS frame, whole in `bytes`) carries an `authorization` worth reusing,
    /// writes the frame with the marker in its place to `self.frame` and returns the value.
    mutating func rewrite(_ frame: InboundFrameScanner.Frame, in bytes: UnsafeRawBufferPointer) -> Value? {
        guard !self.stopped, frame.kind == .headers, frame.flags & Self.endHeaders != 0,
            frame.length <= Self.maxFrameLength, frame.isWhole(in: bytes)
        else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[frame.resumeAt..<frame.resumeAt + frame.length])
        // RFC 9113 §6.2: [pad length] [stream dependency, weight] block [padding]
        var blockStart = 0
        var blockEnd = payload.count
        if frame.flags & Self.padded != 0 {
            guard blockEnd > 0 else { return nil }
            blockStart = 1
            blockEnd -= Int(payload[0])
        }
        if frame.flags & Self.priority != 0 { blockStart += 5 }
        guard blockStart <= blockEnd else { return nil }  // nghttp2 refuses the frame
        let block = UnsafeRawBufferPointer(rebasing: payload[blockStart..<blockEnd])
        guard let literal = HPACKBlockScan.firstAuthorizationLiteral(in: block),
            (Self.minEncodedLength...Self.maxEncodedLength).contains(literal.value.count)
        else { return nil }
        let encoded = UnsafeRawBufferPointer(rebasing: block[literal.value])
        guard let value = self.value(of: encoded, field: UnsafeRawBufferPointer(rebasing: block[literal.field])) else {
            return nil
        }

        // The same frame with [kind | name index 23] [plain string: marker] for the field
        // (appended byte by byte: an array literal here would be an allocation per frame).
        let length = frame.length - literal.field.count + 3 + Self.marker.count
        self.frame.removeAll(keepingCapacity: self.frame.capacity <= 1024)
        self.frame.append(UInt8(length >> 16 & 0xff))
        self.frame.append(UInt8(length >> 8 & 0xff))
        self.frame.append(UInt8(length & 0xff))
        self.frame.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[frame.checkAt + 3..<frame.resumeAt]))
        self.frame.append(contentsOf: UnsafeRawBufferPointer(rebasing: payload[0..<blockStart + literal.field.lowerBound]))
        self.frame.append(literal.kind | 0x0F)
        self.frame.append(UInt8(HPACKBlockScan.authorizationIndex - 15))
        self.frame.append(UInt8(Self.marker.count))
        self.frame.append(contentsOf: Self.marker)
        self.frame.append(contentsOf: UnsafeRawBufferPointer(rebasing: payload[(blockStart + literal.field.upperBound)...]))
        return value
    }

    /// Whether a received value is the marker.
    static func isMarker(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        value.count == Self.marker.count && memcmp(value.baseAddress!, Self.marker, value.count) == 0
    }

    private mutating func value(of encoded: UnsafeRawBufferPointer, field: UnsafeRawBufferPointer) -> Value? {
        for known in self.known where known.encoded.count == encoded.count {
            if memcmp(known.encoded, encoded.baseAddress!, encoded.count) == 0 {
                self.hits += 1
                return known.value
            }
        }
        self.misses += 1
        if self.misses > 2 * self.hits + Self.maxExtraMisses { self.stopped = true }
        guard let decoded = HPACKLiteralDecoder.value(of: field) else { return nil }
        let value = Value(string: String(decoding: decoded, as: UTF8.self), count: decoded.count)
        if self.known.count < Self.capacity {
            self.known.append((Array(encoded), value))
        } else {
            self.known[self.oldest] = (Array(encoded), value)
            self.oldest = (self.oldest + 1) % Self.capacity
        }
        return value
    }
}
