import NIOCore

/// Something the peer did, recorded by `HTTP2Session` while nghttp2 parsed input.
enum HTTP2Event {
    /// A complete header block: request headers, or trailers when the stream already has headers.
    case headers(streamID: Int32, fields: [(name: String, value: String)], endStream: Bool)
    /// A chunk of a DATA frame's payload (padding removed).
    case data(streamID: Int32, bytes: ByteBuffer)
    /// The peer half-closed the stream with a DATA frame.
    case endStream(streamID: Int32)
    /// The stream is gone: finished, reset by either side, or refused.
    case streamClosed(streamID: Int32, errorCode: UInt32)
    /// The peer will open no more streams (GOAWAY received).
    case goAway
    /// A request's header block exceeded SETTINGS_MAX_HEADER_LIST_SIZE; its headers were dropped
    /// while decoding (an HPACK bomb never reaches memory).
    case headerListTooLarge(streamID: Int32)
}

/// A failure of the connection as a whole: the caller closes it.
struct HTTP2Error: Error, CustomStringConvertible {
    var code: Int32
    var message: String

    var description: String { "HTTP/2 error \(self.code): \(self.message)" }
}

/// Settings and protections for one server connection.
struct HTTP2SessionLimits {
    var maxConcurrentStreams: Int
    var maxHeaderListSize: Int
    var initialWindowSize: Int = 1 << 20
    /// RST_STREAM frames a client may send before being cut off, refilled per second
    /// (CVE-2023-44487 "rapid reset").
    var streamResetBurst: UInt64 = 1_000
    var streamResetRatePerSecond: UInt64 = 100
    /// SETTINGS entries a client may send in one frame, and queued ACKs before we stop reading.
    var maxSettings: Int = 32
    var maxOutboundAcks: Int = 1_000
    var maxContinuations: Int = 8
    /// When set, received DATA only reopens the peer's window once `consume` says it was used
    /// (backpressure for streaming requests); nghttp2 counts padding as consumed by itself.
    var manualFlowControl = false
}
