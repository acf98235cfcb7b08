/// Finds where DATA, HEADERS and GOAWAY frames begin in the bytes a server connection receives,
/// across reads, so each can be looked at just before nghttp2 sees it.
///
/// - DATA: nghttp2 drops DATA for a stream it no longer has without any callback (not even
///   `on_begin_frame`), so a DATA frame on a stream the client already ended or reset would go
///   unanswered; RFC 9113 §5.1 wants STREAM_CLOSED. Each is checked against the stream's history.
/// - HEADERS: a block may carry an `authorization` value decoded before (see
///   `AuthorizationReuse`).
/// - GOAWAY: after the client's, nghttp2 stops reading once no stream is open, but only between
///   calls; from there on (and after ours) reads go to nghttp2 whole, as without us.
///
/// The scanner only reads frame headers (RFC 9113 §4.1: 24-bit length, type, flags, 31-bit
/// stream ID) and skips payloads; nghttp2 parses and validates the frames (a rewritten HEADERS
/// frame's `authorization` value excepted: `AuthorizationReuse` checks it as nghttp2 would).
struct InboundFrameScanner {
    /// A DATA, HEADERS or GOAWAY frame whose header ends in the bytes scanned.
    struct Frame: Equatable {
        enum Kind: Equatable {
            case data
            case headers
            case goAway
        }

        var kind: Kind
        /// Where to stop feeding nghttp2 before looking: the header's first byte in these bytes
        /// (or where the scan started, when the header began in an earlier read).
        var checkAt: Int
        /// Where to scan on from: just after the header, where the payload begins.
        var resumeAt: Int
        var streamID: Int32
        var flags: UInt8
        /// The payload's length, from the header.
        var length: Int

        /// Whether all of the frame, header and payload, is in the bytes scanned.
        func isWhole(in bytes: UnsafeRawBufferPointer) -> Bool {
            self.resumeAt - self.checkAt == InboundFrameScanner.headerLength
                && self.length <= bytes.count - self.resumeAt
        }
    }

    static let headerLength = 9
    private static let dataType: UInt8 = 0
    private static let headersType: UInt8 = 1
    private static let goAwayType: UInt8 = 7

    /// The client's connection preface (RFC 9113 §3.4), which precedes the first frame.
    private var prefaceRemaining = 24
    /// Bytes of the frame header being read, and how many of them have arrived.
    private var header: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    private var headerCount = 0
    private var payloadRemaining = 0

    /// Scans `bytes` from `start` and returns the next DATA, HEADERS or GOAWAY frame whose header
    /// completes there, or nil when the rest holds none (the state then covers all of `bytes`).
    mutating func nextFrame(in bytes: UnsafeRawBufferPointer, from start: Int) -> Frame? {
        var position = start
        while position < bytes.count {
            if self.prefaceRemaining > 0 {
                let skip = min(self.prefaceRemaining, bytes.count - position)
                self.prefaceRemaining -= skip
                position += skip
                continue
            }
            if self.payloadRemaining > 0 {
                let skip = min(self.payloadRemaining, bytes.count - position)
                self.payloadRemaining -= skip
                position += skip
                continue
            }
            let headerStart = max(start, position - self.headerCount)
            while self.headerCount < Self.headerLength && position < bytes.count {
                withUnsafeMutableBytes(of: &self.header) { $0[self.headerCount] = bytes[position] }
                self.headerCount += 1
                position += 1
            }
            guard self.headerCount == Self.headerLength else { return nil }
            self.headerCount = 0
            let (l0, l1, l2, type, flags, s0, s1, s2, s3) = self.header
            self.payloadRemaining = Int(l0) << 16 | Int(l1) << 8 | Int(l2)
            let kind: Frame.Kind
            switch type {
            case Self.dataType: kind = .data
            case Self.headersType: kind = .headers
            case Self.goAwayType: kind = .goAway
            default: continue
            }
            let streamID = Int32(bitPattern: (UInt32(s0) << 24 | UInt32(s1) << 16 | UInt32(s2) << 8 | UInt32(s3)) & 0x7fff_ffff)
            return Frame(
                kind: kind, checkAt: headerStart, resumeAt: position, streamID: streamID, flags: flags,
                length: self.payloadRemaining
            )
        }
        return nil
    }
}
