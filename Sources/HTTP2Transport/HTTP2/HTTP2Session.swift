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
    private var pendingHeaders: [Int32: [(name: String, value: String)]] = [:]
    /// Decoded header bytes per stream, counted as RFC 9113 §6.5.2 does (name + value + 32).
    private var pendingHeaderSize: [Int32: Int] = [:]
    private let maxHeaderListSize: Int
    private var outbound: [Int32: OutboundStream] = [:]
    private let allocator: ByteBufferAllocator

    /// One response body waiting to be sent.
    private struct OutboundStream {
        var buffer: ByteBuffer
        var finished = false
        var trailers: [(name: String, value: String)]?
        var deferred = false
    }

    enum Role {
        case server
        case client
    }

    init(role: Role, limits: HTTP2SessionLimits, allocator: ByteBufferAllocator) throws(HTTP2Error) {
        self.allocator = allocator
        self.maxHeaderListSize = limits.maxHeaderListSize
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

    /// Feeds bytes to nghttp2 and returns what happened, in order (with anything recorded
    /// while sending since the last call).
    func receive(_ buffer: ByteBuffer) throws(HTTP2Error) -> [HTTP2Event] {
        let result = buffer.withUnsafeReadableBytes { bytes in
            nghttp2_session_mem_recv(self.raw, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
        if result < 0 {
            throw HTTP2Error(code: Int32(result), message: String(cString: nghttp2_strerror(Int32(result))))
        }
        return self.takeEvents()
    }

    /// Events recorded since the last call. Sending records some too: a stream closes when our
    /// END_STREAM goes out, so callers drain this after `pendingOutput`.
    func takeEvents() -> [HTTP2Event] {
        guard !self.events.isEmpty else { return [] }
        defer { self.events.removeAll(keepingCapacity: true) }
        return self.events
    }

    /// Whether the connection still has work in either direction; when false, close it.
    var isAlive: Bool {
        nghttp2_session_want_read(self.raw) != 0 || nghttp2_session_want_write(self.raw) != 0
    }

    // MARK: Output

    /// Everything nghttp2 wants to send, appended to `buffer`.
    func pendingOutput(into buffer: inout ByteBuffer) throws(HTTP2Error) {
        while true {
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
    func submitResponse(streamID: Int32, headers: [(name: String, value: String)], endStream: Bool) throws(HTTP2Error) {
        if endStream {
            try Self.withNameValues(headers) { nva, count throws(HTTP2Error) in
                try Self.check(nghttp2_submit_response(self.raw, streamID, nva, count, nil), "response")
            }
            return
        }
        self.outbound[streamID] = OutboundStream(buffer: self.allocator.buffer(capacity: 0))
        var provider = nghttp2_data_provider(
            source: nghttp2_data_source(ptr: nil),
            read_callback: { session, streamID, buffer, length, flags, _, userData in
                HTTP2Session.from(userData).provideData(streamID: streamID, into: buffer, length: length, flags: flags)
            }
        )
        try Self.withNameValues(headers) { nva, count throws(HTTP2Error) in
            try Self.check(nghttp2_submit_response(self.raw, streamID, nva, count, &provider), "response")
        }
    }

    /// Opens a client stream with request headers; a body follows unless `endStream`.
    /// Returns the new stream's ID.
    func submitRequest(headers: [(name: String, value: String)], endStream: Bool) throws(HTTP2Error) -> Int32 {
        var provider = nghttp2_data_provider(
            source: nghttp2_data_source(ptr: nil),
            read_callback: { session, streamID, buffer, length, flags, _, userData in
                HTTP2Session.from(userData).provideData(streamID: streamID, into: buffer, length: length, flags: flags)
            }
        )
        let streamID = try Self.withNameValues(headers) { nva, count throws(HTTP2Error) -> Int32 in
            let id = endStream
                ? nghttp2_submit_request(self.raw, nil, nva, count, nil, nil)
                : nghttp2_submit_request(self.raw, nil, nva, count, &provider, nil)
            guard id > 0 else {
                throw HTTP2Error(code: id, message: String(cString: nghttp2_strerror(id)))
            }
            return id
        }
        if !endStream {
            self.outbound[streamID] = OutboundStream(buffer: self.allocator.buffer(capacity: 0))
        }
        return streamID
    }

    /// Queues body bytes for a stream whose headers were submitted.
    func send(_ bytes: ByteBuffer, on streamID: Int32) {
        guard var stream = self.outbound[streamID] else { return }
        var bytes = bytes
        stream.buffer.writeBuffer(&bytes)
        self.outbound[streamID] = stream
        self.resumeIfDeferred(streamID)
    }

    /// Ends the body; trailers, if any, go out after the last DATA frame.
    func finish(_ streamID: Int32, trailers: [(name: String, value: String)]?) {
        guard var stream = self.outbound[streamID] else { return }
        stream.finished = true
        stream.trailers = trailers
        self.outbound[streamID] = stream
        self.resumeIfDeferred(streamID)
    }

    /// Bytes queued for a stream and not yet taken by nghttp2 (for backpressure).
    func bufferedBytes(on streamID: Int32) -> Int {
        self.outbound[streamID]?.buffer.readableBytes ?? 0
    }

    /// Tells nghttp2 that `count` received bytes of a stream were used, reopening the stream's
    /// and the connection's windows by that much (manual flow control).
    func consume(_ count: Int, on streamID: Int32) {
        guard count > 0 else { return }
        if nghttp2_session_consume(self.raw, streamID, count) != 0 {
            // The stream is already gone: the connection window still needs the bytes back.
            _ = nghttp2_session_consume_connection(self.raw, count)
        }
    }

    /// Resets one stream (RFC 9113 §6.4).
    func reset(_ streamID: Int32, errorCode: UInt32) {
        self.outbound[streamID] = nil
        _ = nghttp2_submit_rst_stream(self.raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode)
    }

    /// Announces that no new streams will be accepted after the last one seen (graceful GOAWAY).
    func goAway(errorCode: UInt32 = 0) {
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
        static let refusedStream: UInt32 = 7
        static let cancel: UInt32 = 8
        static let enhanceYourCalm: UInt32 = 11
    }

    private func resumeIfDeferred(_ streamID: Int32) {
        guard self.outbound[streamID]?.deferred == true else { return }
        self.outbound[streamID]?.deferred = false
        _ = nghttp2_session_resume_data(self.raw, streamID)
    }

    /// nghttp2's data source callback: copy what is queued, or defer until more arrives.
    private func provideData(
        streamID: Int32,
        into destination: UnsafeMutablePointer<UInt8>?,
        length: Int,
        flags: UnsafeMutablePointer<UInt32>?
    ) -> Int {
        guard var stream = self.outbound[streamID], let destination, let flags else {
            return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        let count = min(length, stream.buffer.readableBytes)
        if count > 0 {
            stream.buffer.withUnsafeReadableBytes { source in
                UnsafeMutableRawPointer(destination).copyMemory(from: source.baseAddress!, byteCount: count)
            }
            stream.buffer.moveReaderIndex(forwardBy: count)
        }
        if stream.buffer.readableBytes == 0 {
            if stream.finished {
                flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
                if let trailers = stream.trailers {
                    flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                    _ = Self.withNameValues(trailers) { nva, count in
                        nghttp2_submit_trailer(self.raw, streamID, nva, count)
                    }
                }
                self.outbound[streamID] = nil
                return count
            }
            if count == 0 {
                stream.deferred = true
                stream.buffer.clear()
                self.outbound[streamID] = stream
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            }
            stream.buffer.clear()  // reuse the storage from the start
        }
        self.outbound[streamID] = stream
        return count
    }

    // MARK: Callbacks

    private static func from(_ userData: UnsafeMutableRawPointer?) -> HTTP2Session {
        Unmanaged<HTTP2Session>.fromOpaque(userData!).takeUnretainedValue()
    }

    private static func installCallbacks(_ callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            let session = HTTP2Session.from(userData)
            session.pendingHeaders[frame.pointee.hd.stream_id] = []
            session.pendingHeaderSize[frame.pointee.hd.stream_id] = 0
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) {
            _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame, let name, let value else { return 0 }
            let session = HTTP2Session.from(userData)
            let streamID = frame.pointee.hd.stream_id
            // nghttp2 does not enforce our SETTINGS_MAX_HEADER_LIST_SIZE; stop storing past it.
            let size = (session.pendingHeaderSize[streamID] ?? 0) + nameLength + valueLength + 32
            session.pendingHeaderSize[streamID] = size
            guard size <= session.maxHeaderListSize else {
                session.pendingHeaders[streamID] = nil
                return 0
            }
            let field = (
                name: String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self),
                value: String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self)
            )
            session.pendingHeaders[streamID]?.append(field)
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            let session = HTTP2Session.from(userData)
            let streamID = frame.pointee.hd.stream_id
            let endStream = frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            switch UInt32(frame.pointee.hd.type) {
            case NGHTTP2_HEADERS.rawValue:
                let size = session.pendingHeaderSize.removeValue(forKey: streamID) ?? 0
                let fields = session.pendingHeaders.removeValue(forKey: streamID) ?? []
                if size > session.maxHeaderListSize {
                    session.events.append(.headerListTooLarge(streamID: streamID))
                } else {
                    session.events.append(.headers(streamID: streamID, fields: fields, endStream: endStream))
                }
            case NGHTTP2_DATA.rawValue where endStream:
                session.events.append(.endStream(streamID: streamID))
            case NGHTTP2_GOAWAY.rawValue:
                session.events.append(.goAway)
            default:
                break
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) {
            _, _, streamID, data, length, userData in
            guard let data else { return 0 }
            let session = HTTP2Session.from(userData)
            var buffer = session.allocator.buffer(capacity: length)
            buffer.writeBytes(UnsafeRawBufferPointer(start: data, count: length))
            session.events.append(.data(streamID: streamID, bytes: buffer))
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            let session = HTTP2Session.from(userData)
            session.outbound[streamID] = nil
            session.pendingHeaders[streamID] = nil
            session.pendingHeaderSize[streamID] = nil
            session.events.append(.streamClosed(streamID: streamID, errorCode: errorCode))
            return 0
        }
    }

    // MARK: C helpers

    private static func check(_ result: Int32, _ what: String) throws(HTTP2Error) {
        guard result == 0 else {
            throw HTTP2Error(code: result, message: "\(what): \(String(cString: nghttp2_strerror(result)))")
        }
    }

    /// Calls `body` with an `nghttp2_nv` array for `fields`; the pointers are valid only inside.
    /// nghttp2 copies names and values during the submit call, so nothing outlives it.
    private static func withNameValues<Result, Failure: Error>(
        _ fields: [(name: String, value: String)],
        _ body: (UnsafeMutablePointer<nghttp2_nv>?, Int) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var storage: [UInt8] = []
        var offsets: [(name: Range<Int>, value: Range<Int>)] = []
        offsets.reserveCapacity(fields.count)
        for field in fields {
            let nameStart = storage.count
            storage.append(contentsOf: field.name.utf8)
            let valueStart = storage.count
            storage.append(contentsOf: field.value.utf8)
            offsets.append((nameStart..<valueStart, valueStart..<storage.count))
        }
        storage.append(0)  // never empty, so the base address exists
        let result: Swift.Result<Result, Failure> = storage.withUnsafeMutableBufferPointer { bytes in
            let base = bytes.baseAddress!
            var nva = offsets.map { range in
                nghttp2_nv(
                    name: base + range.name.lowerBound,
                    value: base + range.value.lowerBound,
                    namelen: range.name.count,
                    valuelen: range.value.count,
                    flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)
                )
            }
            return Swift.Result { () throws(Failure) -> Result in
                try nva.withUnsafeMutableBufferPointer { nv throws(Failure) in try body(nv.baseAddress, nv.count) }
            }
        }
        return try result.get()
    }
}
