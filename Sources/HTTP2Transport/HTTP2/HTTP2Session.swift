private import CNghttp2
import NIOCore

/// Owns one `nghttp2_session`, server or client side. Use it only on the connection's event loop.
///
/// nghttp2 owns framing, HPACK and flow control; this type feeds it bytes, records what happened
/// as `HTTP2Event`s (callbacks only record; decisions happen after `receive`), and holds each
/// stream's outbound DATA until nghttp2 asks for it through the data provider.
final class HTTP2Session {
    private var raw: OpaquePointer?
    private var events: [HTTP2Event] = []
    private var draining = false
    /// The header block being received. HEADERS and its CONTINUATIONs arrive back to back
    /// (RFC 9113 §6.10), so one block is open at a time.
    private var headers: HeaderReceiver
    /// The client's recent stream IDs, for frames on streams nghttp2 has forgotten (server only).
    private var history = StreamHistory()
    private var scanner = InboundFrameScanner()
    private var authorization = AuthorizationReuse()
    /// Off only to compare against (tests, the `http2-headers` fuzz target).
    var reusesAuthorization = true
    /// Either side sent GOAWAY: reads go to nghttp2 whole from there on. After the client's,
    /// nghttp2 stops reading once no stream is open, but only between calls: a read fed in pieces
    /// would lose what the whole read gives it (see `InboundFrameScanner`). After ours, nghttp2
    /// stops within the call as well; a draining connection gains nothing from pieces anyway.
    private var readsWhole = false
    private let role: Role
    private var outbound: [Int32: OutboundStream] = [:]
    /// Response bytes queued in `outbound` across all streams, not yet taken by nghttp2.
    private(set) var outboundBytes = 0
    private let allocator: ByteBufferAllocator
    /// The buffer `receive` is parsing: DATA payloads are handed out as slices of it, not copies.
    private var input: ByteBuffer?

    private struct ReceivedHeaderBlock {
        var streamID: Int32 = 0
        var fields: [(name: String, value: String)] = []
        init(streamID: Int32 = 0) {
            self.streamID = streamID
            self.fields.reserveCapacity(streamID == 0 ? 0 : 12)
        }
        /// Decoded bytes, counted as RFC 9113 §6.5.2 does (name + value + 32 per field).
        var size = 0
    }

    /// The open header block with the strings it reuses, in one value: each field nghttp2 hands
    /// over costs the session one exclusive access, where reaching for the block's size, its
    /// fields and the strings one by one cost six (exclusivity checks in the header callback
    /// were 2 % of a unary gRPC call).
    private struct HeaderReceiver {
        private(set) var block = ReceivedHeaderBlock()
        private var strings = RecentHeaderStrings()
        /// Our SETTINGS_MAX_HEADER_LIST_SIZE, which nghttp2 does not enforce.
        let maxListSize: Int
        /// The `authorization` value of the rewritten HEADERS frame being fed (its stream and
        /// value), for the field that carries `AuthorizationReuse.marker` instead.
        var substitution: (streamID: Int32, value: AuthorizationReuse.Value)?

        init(maxListSize: Int) {
            self.maxListSize = maxListSize
        }

        var isTooLarge: Bool { self.block.size > self.maxListSize }

        mutating func begin(streamID: Int32) {
            self.block = ReceivedHeaderBlock(streamID: streamID)
        }

        /// Adds a field of the open block; past the size limit, stops storing (and drops what
        /// it stored), still counting.
        mutating func receive(
            streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>
        ) {
            guard streamID == self.block.streamID else { return }
            var substituted: AuthorizationReuse.Value?
            if let substitution = self.substitution, substitution.streamID == streamID,
                name.count == 13, AuthorizationReuse.isMarker(value)  // 13: "authorization"
            {
                self.substitution = nil
                substituted = substitution.value
            }
            self.block.size += name.count + (substituted?.count ?? value.count) + 32
            guard self.block.size <= self.maxListSize else {
                self.block.fields.removeAll()
                return
            }
            self.block.fields.append((name: self.strings.string(name), value: substituted?.string ?? self.strings.string(value)))
        }

        /// The finished block; none is open afterwards.
        mutating func take() -> ReceivedHeaderBlock {
            defer { self.block = ReceivedHeaderBlock() }
            return self.block
        }

        /// Forgets the open block if it belongs to `streamID` (the stream closed).
        mutating func drop(streamID: Int32) {
            if self.block.streamID == streamID { self.block = ReceivedHeaderBlock() }
        }
    }

    /// One response body waiting to be sent.
    private final class OutboundStream {
        var buffer: ByteBuffer?
        var finished = false
        var trailers: HTTP2HeaderBlock?
        var deferred = false

        var bufferedBytes: Int { self.buffer?.readableBytes ?? 0 }
    }

    enum Role {
        case server
        case client
    }

    init(role: Role, limits: HTTP2SessionLimits, allocator: ByteBufferAllocator) throws(HTTP2Error) {
        self.role = role
        self.allocator = allocator
        self.headers = HeaderReceiver(maxListSize: limits.maxHeaderListSize)
        var callbacks: OpaquePointer?
        try Self.check(nghttp2_session_callbacks_new(&callbacks), "callbacks")
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.installCallbacks(callbacks)

        var option: OpaquePointer?
        try Self.check(nghttp2_option_new(&option), "options")
        defer { nghttp2_option_del(option) }
        nghttp2_option_set_max_settings(option, limits.maxSettings)
        nghttp2_option_set_max_outbound_ack(option, limits.maxOutboundAcks)
        nghttp2_option_set_stream_reset_rate_limit(option, limits.streamResetBurst, limits.streamResetRatePerSecond)
        nghttp2_option_set_max_continuations(option, limits.maxContinuations)
        // nghttp2 1.52 otherwise keeps up to MAX_CONCURRENT_STREAMS closed streams per connection
        // for the RFC 7540 priority tree (which RFC 9113 deprecated, and we do not use): about
        // 80 KiB per busy connection, and a larger stream map to search on every frame.
        nghttp2_option_set_no_closed_streams(option, 1)
        if limits.manualFlowControl {
            nghttp2_option_set_no_auto_window_update(option, 1)
        }

        var session: OpaquePointer?
        let userData = Unmanaged.passUnretained(self).toOpaque()
        switch role {
        case .server:
            try Self.check(nghttp2_session_server_new2(&session, callbacks, userData, option), "session")
        case .client:
            try Self.check(nghttp2_session_client_new2(&session, callbacks, userData, option), "session")
        }
        self.raw = session

        var settings = [
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                value: UInt32(limits.maxConcurrentStreams)
            ),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                value: UInt32(limits.maxHeaderListSize)
            ),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                value: UInt32(limits.initialWindowSize)
            ),
        ]
        try Self.check(
            nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count),
            "settings"
        )
        // Open the connection-level window as wide as the streams' so one stream can use it all.
        try Self.check(
            nghttp2_session_set_local_window_size(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Int32(limits.initialWindowSize * 4)
            ),
            "window"
        )
    }

    deinit {
        nghttp2_session_del(self.raw)
    }

    // MARK: Input

    /// Feeds bytes to nghttp2; what happened is then read with `drainEvents`.
    ///
    /// A server feeds them in pieces that end where a DATA frame begins, so the frame's stream
    /// can be checked with everything before it applied (see `InboundFrameScanner`), and feeds
    /// HEADERS frames that carry an `authorization` decoded before rewritten (see
    /// `AuthorizationReuse`).
    func receive(_ buffer: ByteBuffer) throws(HTTP2Error) {
        self.input = buffer
        defer { self.input = nil }
        let result = buffer.withUnsafeReadableBytes { bytes -> Int in
            guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
            var fed = 0
            /// Feeds what is left before `end`; nghttp2's result (negative: the connection failed).
            func feed(upTo end: Int) -> Int {
                guard end > fed else { return 0 }
                defer { fed = end }
                return nghttp2_session_mem_recv(self.raw, base + fed, end - fed)
            }
            var scanned = 0
            while self.role == .server, !self.readsWhole, let frame = self.scanner.nextFrame(in: bytes, from: scanned) {
                scanned = frame.resumeAt
                switch frame.kind {
                case .goAway:
                    self.readsWhole = true
                case .data:
                    let result = feed(upTo: frame.checkAt)
                    if result < 0 { return result }
                    self.willReceiveData(on: frame.streamID)
                case .headers:
                    guard self.reusesAuthorization, let value = self.authorization.rewrite(frame, in: bytes) else {
                        continue
                    }
                    let result = feed(upTo: frame.checkAt)
                    if result < 0 { return result }
                    // The rewritten frame instead of the one in `bytes` (held by a local: the
                    // callbacks run inside, and must be free to reach `self.authorization`).
                    let rewritten = self.authorization.frame
                    self.headers.substitution = (frame.streamID, value)
                    let rewrittenResult = rewritten.withUnsafeBufferPointer {
                        nghttp2_session_mem_recv(self.raw, $0.baseAddress, $0.count)
                    }
                    self.headers.substitution = nil
                    if rewrittenResult < 0 { return rewrittenResult }
                    fed = frame.resumeAt + frame.length
                }
            }
            return feed(upTo: bytes.count)
        }
        if result < 0 {
            throw HTTP2Error(code: Int32(result), message: String(cString: nghttp2_strerror(Int32(result))))
        }
    }

    /// `authorization` values found remembered, and decoded afresh (for tests).
    var authorizationReuse: (hits: Int, misses: Int) { (self.authorization.hits, self.authorization.misses) }

    /// Hands every event recorded since the last drain to `handle`, in order. Receiving records
    /// events, and so does sending (a stream closes when our END_STREAM goes out), so callers
    /// drain after `receive` and after `pendingOutput`. Events recorded while draining are handed
    /// out in the same pass.
    func drainEvents(_ handle: (HTTP2Event) -> Void) {
        guard !self.draining else { return }  // the outer pass picks up what is added
        self.draining = true
        defer { self.draining = false }
        var index = 0
        while index < self.events.count {
            let event = self.events[index]
            index += 1
            handle(event)
        }
        self.events.removeAll(keepingCapacity: true)
    }

    /// Whether the connection still has work in either direction; when false, close it.
    var isAlive: Bool {
        nghttp2_session_want_read(self.raw) != 0 || nghttp2_session_want_write(self.raw) != 0
    }

    // MARK: Output

    /// What nghttp2 wants to send, appended to `buffer` until it holds `limit` bytes or more
    /// (the rest stays queued in nghttp2 until the next call).
    func pendingOutput(into buffer: inout ByteBuffer, limit: Int = .max) throws(HTTP2Error) {
        while buffer.readableBytes < limit {
            var pointer: UnsafePointer<UInt8>?
            let length = nghttp2_session_mem_send(self.raw, &pointer)
            if length < 0 {
                throw HTTP2Error(code: Int32(length), message: String(cString: nghttp2_strerror(Int32(length))))
            }
            guard length > 0, let pointer else { return }
            buffer.writeBytes(UnsafeRawBufferPointer(start: pointer, count: length))
        }
    }

    /// Sends response headers. With `endStream` the response is complete (e.g. gRPC Trailers-Only);
    /// otherwise a body follows through `send(_:on:)` and `finish(_:trailers:)`.
    func submitResponse(streamID: Int32, headers: HTTP2HeaderBlock, endStream: Bool) throws(HTTP2Error) {
        // The stream may have closed in the same read that opened it (HEADERS then RST_STREAM):
        // a response for it would never be sent, and its body would sit in `outbound` for good.
        guard nghttp2_session_find_stream(self.raw, streamID) != nil else { return }
        let nva = headers.entries.assumingMemoryBound(to: nghttp2_nv.self)
        if endStream {
            try Self.check(nghttp2_submit_response(self.raw, streamID, nva, headers.count, nil), "response")
            return
        }
        self.outbound[streamID] = OutboundStream()
        var provider = Self.dataProvider
        try Self.check(nghttp2_submit_response(self.raw, streamID, nva, headers.count, &provider), "response")
    }

    func submitResponse(streamID: Int32, headers: [(name: String, value: String)], endStream: Bool) throws(HTTP2Error) {
        try self.submitResponse(streamID: streamID, headers: HTTP2HeaderBlock(headers), endStream: endStream)
    }

    /// Opens a client stream with request headers; a body follows unless `endStream`.
    /// Returns the new stream's ID.
    func submitRequest(headers: [(name: String, value: String)], endStream: Bool) throws(HTTP2Error) -> Int32 {
        let block = HTTP2HeaderBlock(headers)
        let nva = block.entries.assumingMemoryBound(to: nghttp2_nv.self)
        var provider = Self.dataProvider
        let streamID = endStream
            ? nghttp2_submit_request(self.raw, nil, nva, block.count, nil, nil)
            : nghttp2_submit_request(self.raw, nil, nva, block.count, &provider, nil)
        guard streamID > 0 else {
            throw HTTP2Error(code: streamID, message: String(cString: nghttp2_strerror(streamID)))
        }
        if !endStream {
            self.outbound[streamID] = OutboundStream()
        }
        return streamID
    }

    /// Body bytes come from the stream's `OutboundStream` through `provideData`.
    private static let dataProvider = nghttp2_data_provider(
        source: nghttp2_data_source(ptr: nil),
        read_callback: { _, streamID, buffer, length, flags, _, userData in
            HTTP2Session.with(userData) {
                $0.provideData(streamID: streamID, into: buffer, length: length, flags: flags)
            }
        }
    )

    /// Queues body bytes for a stream whose headers were submitted.
    func send(_ bytes: ByteBuffer, on streamID: Int32) {
        guard let stream = self.outbound[streamID] else { return }
        self.outboundBytes += bytes.readableBytes
        if var buffered = stream.buffer, buffered.readableBytes > 0 {
            stream.buffer = nil  // keep the storage uniquely referenced while appending
            // Bytes nghttp2 already took are dropped first, or the storage grows with everything
            // the stream ever sent while its buffer is never quite empty.
            buffered.discardReadBytes()
            var bytes = bytes
            buffered.writeBuffer(&bytes)
            stream.buffer = buffered
        } else {
            stream.buffer = bytes
        }
        self.resumeIfDeferred(stream, streamID)
    }

    /// Ends the body; trailers, if any, go out after the last DATA frame.
    func finish(_ streamID: Int32, trailers: HTTP2HeaderBlock?) {
        guard let stream = self.outbound[streamID] else { return }
        stream.finished = true
        stream.trailers = trailers
        self.resumeIfDeferred(stream, streamID)
    }

    /// Bytes queued for a stream and not yet taken by nghttp2 (for backpressure).
    func bufferedBytes(on streamID: Int32) -> Int {
        self.outbound[streamID]?.bufferedBytes ?? 0
    }

    /// Reopens only the connection's window by `count` received bytes (manual flow control).
    func consumeConnection(_ count: Int) {
        guard count > 0 else { return }
        _ = nghttp2_session_consume_connection(self.raw, count)
    }

    /// Reopens only a stream's window by `count` received bytes; nothing if the stream is gone.
    func consumeStream(_ count: Int, on streamID: Int32) {
        guard count > 0 else { return }
        _ = nghttp2_session_consume_stream(self.raw, streamID, count)
    }

    /// Resets one stream (RFC 9113 §6.4).
    func reset(_ streamID: Int32, errorCode: UInt32) {
        self.dropOutbound(streamID)
        _ = nghttp2_submit_rst_stream(self.raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode)
    }

    /// Announces that no new streams will be accepted after the last one seen (graceful GOAWAY).
    func goAway(errorCode: UInt32 = 0) {
        self.readsWhole = true
        let last = nghttp2_session_get_last_proc_stream_id(self.raw)
        _ = nghttp2_submit_goaway(self.raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, errorCode, nil, 0)
    }

    /// Sends a PING (keepalive).
    func ping() {
        _ = nghttp2_submit_ping(self.raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
    }

    /// Error codes of RFC 9113 §7 that this transport uses.
    enum ErrorCode {
        static let noError: UInt32 = 0
        static let protocolError: UInt32 = 1
        static let internalError: UInt32 = 2
        static let streamClosed: UInt32 = 5
        static let refusedStream: UInt32 = 7
        static let cancel: UInt32 = 8
        static let enhanceYourCalm: UInt32 = 11
    }

    private func dropOutbound(_ streamID: Int32) {
        guard let stream = self.outbound.removeValue(forKey: streamID) else { return }
        self.outboundBytes -= stream.bufferedBytes
    }

    private func resumeIfDeferred(_ stream: OutboundStream, _ streamID: Int32) {
        guard stream.deferred else { return }
        stream.deferred = false
        _ = nghttp2_session_resume_data(self.raw, streamID)
    }

    /// nghttp2's data source callback: copy what is queued, or defer until more arrives.
    private func provideData(
        streamID: Int32,
        into destination: UnsafeMutablePointer<UInt8>?,
        length: Int,
        flags: UnsafeMutablePointer<UInt32>?
    ) -> Int {
        guard let stream = self.outbound[streamID], let destination, let flags else {
            return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        var count = 0
        if var buffer = stream.buffer {
            stream.buffer = nil
            count = min(length, buffer.readableBytes)
            buffer.withUnsafeReadableBytes { source in
                if count > 0 { UnsafeMutableRawPointer(destination).copyMemory(from: source.baseAddress!, byteCount: count) }
            }
            buffer.moveReaderIndex(forwardBy: count)
            self.outboundBytes -= count
            if buffer.readableBytes > 0 { stream.buffer = buffer }
        }
        guard stream.bufferedBytes == 0 else { return count }
        if stream.finished {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            if let trailers = stream.trailers {
                flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                let nva = trailers.entries.assumingMemoryBound(to: nghttp2_nv.self)
                _ = nghttp2_submit_trailer(self.raw, streamID, nva, trailers.count)
            }
            self.outbound[streamID] = nil
            return count
        }
        if count == 0 {
            stream.deferred = true
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        return count
    }

    // MARK: Callbacks

    /// The session a callback is for, borrowed for the callback's duration. nghttp2 calls back
    /// only from inside `nghttp2_session_mem_recv`/`mem_send` (not from `nghttp2_session_del`),
    /// which this session's own methods call on `self.raw`: the caller holds the session alive,
    /// and no callback body drops a reference to it, so the callback needs no retain of its own.
    /// (`takeUnretainedValue` retained and released it around every callback, once per header
    /// field: about 2.5 % of a gRPC call in `tools/bench/profile.sh grpc`.)
    private static func with<Result>(
        _ userData: UnsafeMutableRawPointer?, _ body: (HTTP2Session) -> Result
    ) -> Result {
        Unmanaged<HTTP2Session>.fromOpaque(userData!)._withUnsafeGuaranteedRef(body)
    }

    private static func installCallbacks(_ callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks) { _, header, userData in
            guard let header else { return 0 }
            HTTP2Session.with(userData) {
                $0.didBeginFrame(type: UInt32(header.pointee.type), streamID: header.pointee.stream_id)
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            // Every block starts empty: a block nghttp2 rejected halfway (an invalid field ends
            // its stream before the frame-received callback) must leave nothing for the next.
            HTTP2Session.with(userData) { session in
                session.headers.begin(streamID: frame.pointee.hd.stream_id)
                // A stream a PRIORITY frame named first already existed (idle) at its HEADERS,
                // so `didBeginFrame` skipped it: it opens here.
                if session.role == .server, frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST {
                    session.history.open(frame.pointee.hd.stream_id)
                }
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) {
            _, frame, name, nameLength, value, valueLength, _, userData in
            guard let name, let value, let frame else { return 0 }
            HTTP2Session.with(userData) {
                $0.headers.receive(
                    streamID: frame.pointee.hd.stream_id,
                    name: UnsafeBufferPointer(start: name, count: nameLength),
                    value: UnsafeBufferPointer(start: value, count: valueLength)
                )
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            HTTP2Session.with(userData) { $0.didReceiveFrame(frame.pointee.hd) }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) {
            _, _, streamID, data, length, userData in
            guard let data else { return 0 }
            HTTP2Session.with(userData) { session in
                session.events.append(.data(streamID: streamID, bytes: session.slice(of: data, length)))
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            HTTP2Session.with(userData) { session in
                session.dropOutbound(streamID)
                session.headers.drop(streamID: streamID)
                session.events.append(.streamClosed(streamID: streamID, errorCode: errorCode))
            }
            return 0
        }
    }

    /// A whole frame nghttp2 accepted: the stream's history, and the events it makes.
    private func didReceiveFrame(_ frame: nghttp2_frame_hd) {
        let streamID = frame.stream_id
        let endStream = frame.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch UInt32(frame.type) {
        case NGHTTP2_RST_STREAM.rawValue:
            self.history.peerReset(streamID)
        case NGHTTP2_HEADERS.rawValue where endStream, NGHTTP2_DATA.rawValue where endStream:
            self.history.peerEnded(streamID)
        default:
            break
        }
        switch UInt32(frame.type) {
        case NGHTTP2_HEADERS.rawValue:
            let tooLarge = self.headers.isTooLarge
            let block = self.headers.take()
            if tooLarge {
                self.events.append(.headerListTooLarge(streamID: streamID))
            } else {
                self.events.append(.headers(streamID: streamID, fields: block.fields, endStream: endStream))
            }
        case NGHTTP2_DATA.rawValue where endStream:
            self.events.append(.endStream(streamID: streamID))
        case NGHTTP2_GOAWAY.rawValue:
            self.events.append(.goAway)
        default:
            break
        }
    }

    /// RFC 9113 §5.1.1 and §5.1 for HEADERS on streams nghttp2 no longer has (it keeps no
    /// closed streams, and would ignore them): on a lower, never-opened stream ID it is a
    /// connection error (PROTOCOL_ERROR); see `answerClosedStream` for closed ones.
    private func didBeginFrame(type: UInt32, streamID: Int32) {
        guard self.role == .server, type == NGHTTP2_HEADERS.rawValue, streamID > 0,
            nghttp2_session_find_stream(self.raw, streamID) == nil
        else { return }
        switch self.history.fate(of: streamID) {
        case .new:
            self.history.open(streamID)
        case .neverOpened:
            _ = nghttp2_session_terminate_session(self.raw, ErrorCode.protocolError)
        case .endedByPeer, .resetByPeer, .closedLocally, .unknown:
            self.answerClosedStream(streamID)
        }
    }

    /// RFC 9113 §5.1 for DATA, which nghttp2 drops without a callback when it has no stream.
    private func willReceiveData(on streamID: Int32) {
        guard streamID > 0, nghttp2_session_find_stream(self.raw, streamID) == nil else { return }
        self.answerClosedStream(streamID)
    }

    /// RFC 9113 §5.1, "closed": a frame after the client's END_STREAM is a connection error
    /// (STREAM_CLOSED); after its RST_STREAM, a stream error (STREAM_CLOSED), sent once, so a
    /// client cannot make us queue one reset per frame. Frames on streams we closed first may
    /// have been in flight and are ignored, as nghttp2 does.
    private func answerClosedStream(_ streamID: Int32) {
        switch self.history.fate(of: streamID) {
        case .endedByPeer:
            _ = nghttp2_session_terminate_session(self.raw, ErrorCode.streamClosed)
        case .resetByPeer:
            self.history.answered(streamID)
            _ = nghttp2_submit_rst_stream(self.raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, ErrorCode.streamClosed)
        case .new, .neverOpened, .closedLocally, .unknown:
            break
        }
    }

    /// DATA payload bytes as a slice of the buffer being received (nghttp2 points into it), or
    /// a copy if they are somewhere else.
    private func slice(of data: UnsafePointer<UInt8>, _ length: Int) -> ByteBuffer {
        if let input = self.input {
            let offset = input.withUnsafeReadableBytes { bytes in
                bytes.baseAddress.map { UnsafeRawPointer(data) - $0 } ?? -1
            }
            if offset >= 0, offset + length <= input.readableBytes,
                let slice = input.getSlice(at: input.readerIndex + offset, length: length)
            {
                return slice
            }
        }
        var buffer = self.allocator.buffer(capacity: length)
        buffer.writeBytes(UnsafeRawBufferPointer(start: data, count: length))
        return buffer
    }

    // MARK: C helpers

    private static func check(_ result: Int32, _ what: String) throws(HTTP2Error) {
        guard result == 0 else {
            throw HTTP2Error(code: result, message: "\(what): \(String(cString: nghttp2_strerror(result)))")
        }
    }
}
