import Foundation
import NIOCore
import NIOHTTP1
import HTTPMessages
import RPCCore
import ServiceErrors

/// Serves HTTP/1.1 requests (keep-alive, pipelined requests answered in order) with an `HTTPService`,
/// behind NIO's request decoder; responses are written as bytes (`HTTP1Wire`), one buffer each.
///
/// Requests are buffered up to `maxBodySize`; a larger body gets 413 and the connection closes.
///
/// One request at a time: once a request is complete, the parts that follow it (pipelined
/// requests, a malformed one) wait in `waiting` until its response is written, and while any
/// wait the socket is not read. So `waiting` holds at most what one read decoded, and while the
/// socket is not writable a finished response waits here instead of being written: the client
/// that does not read stops its own pipeline, and one response is the most a connection holds.
final class HTTP1ServerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What arrived after the request being answered, in order.
    private enum Inbound {
        case part(HTTPServerRequestPart)
        /// The decoder found the bytes after the parts before this one malformed.
        case malformed
        /// More was pipelined than `maxWaiting`: close once the parts before it are answered.
        case overflow
    }

    private var waiting = CircularBuffer<Inbound>()
    /// A `read` held back while parts wait; issued once they have all been taken.
    private var readHeldBack = false
    /// Set while `deliverWaiting` runs (a part it delivers can finish a response at once).
    private var delivering = false
    /// The connection closes once what is written has gone out (a response with `connection:
    /// close`, a stream, a refusal): nothing more is read or handled.
    private var closing = false
    /// Set once the responses are out and our side is shut (`linger`): what the client still
    /// sends is read and dropped until it closes, or `lingerTime` passes.
    private var lingering = false
    private var lingerTimer: Scheduled<Void>?
    /// How long a closing connection reads and drops the client's bytes after its FIN went out.
    static let lingerTime: TimeAmount = .seconds(2)
    /// A request is complete and its response not yet written (or is being streamed, which ends
    /// the connection): parts that come now wait.
    private var answering: Bool { self.nextToWrite < self.nextToStart || self.streamTask != nil || self.closing }

    /// Puts NIO's request decoder and `handler` at the end of an HTTP/1.1 connection's pipeline
    /// (after the protocol sniffer, and TLS).
    static func addHandlers(_ handler: HTTP1ServerHandler, to pipeline: ChannelPipeline.SynchronousOperations) throws {
        // The decoder consumes what it reads except after an upgrade or CONNECT request, which
        // ends parsing (those close the connection after their response); the bound is for that.
        try pipeline.addHandler(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes), maximumBufferSize: Self.maxDecoderBuffer)
        )
        try pipeline.addHandler(handler)
    }

    /// Bytes NIO's decoder may hold undecoded (see `addHandlers`).
    static let maxDecoderBuffer = 1 << 20
    /// Decoded parts that may wait behind the request being answered: a client that pipelines
    /// more in one read (at most `TransportServer.maxReadSize` bytes per wake-up) gets those
    /// answered and the connection closed, instead of the server holding thousands of parsed
    /// requests.
    static let maxWaiting = 256

    private let service: any HTTPService
    private let maxBodySize: Int
    private var head: HTTPRequestHead?
    /// What the current head's fields say, read once (`HeadFields`).
    private var fields = HeadFields()
    private var body: [UInt8] = []
    private var bodyTooLarge = false
    /// The answer `admit` gave the current request's head: its body is discarded, not buffered.
    private var refused: HTTPResponse?
    /// The current request was answered from its head (`Expect: 100-continue`): what is left of
    /// it is dropped.
    private var discarding = false
    /// Responses are written in request order even when handlers finish out of order.
    private var nextToWrite = 0
    private var nextToStart = 0
    private var finished: [Int: (HTTPResponse, keepAlive: Bool)] = [:]
    /// What a request asks of its response's shape, by sequence number; only requests that ask
    /// something are here (`Asked.of`).
    private var asked: [Int: Asked] = [:]

    private struct Asked {
        /// A HEAD request: the response goes out without its body (RFC 9110 §9.3.2), which
        /// would otherwise be read as the start of the next response.
        var headOnly = false
        /// An HTTP/1.0 request that asked to be kept alive: such a client keeps the connection
        /// only when the response says `connection: keep-alive` (RFC 9112 §9.3, appendix C.2.2).
        var keepAliveSaid = false
        /// An HTTP/1.0 request: a streamed body goes to it unframed until the connection closes,
        /// as it cannot read chunked (RFC 9112 §7.1).
        var readsNoChunks = false

        /// nil when the request asks nothing special (a GET or POST over HTTP/1.1).
        static func of(_ head: HTTPRequestHead) -> Asked? {
            let http10 = head.version == .http1_0
            let asked = Asked(headOnly: head.method == .HEAD, keepAliveSaid: http10 && head.isKeepAlive, readsNoChunks: http10)
            return asked.headOnly || http10 ? asked : nil
        }
    }
    /// Set on shutdown: answer what is in flight with `connection: close`, then close.
    private var draining = false
    /// Set when the connection is gone: responses that finish later are abandoned.
    private var closed = false
    /// Requests being worked on in tasks, by sequence number, so leaving cancels them.
    private var pendingTasks: [Int: Task<Void, Never>] = [:]
    /// Since when a finished response has waited for the socket to take it (a client that does
    /// not read); the connection closes after `requestTimeout` of that.
    private var stalledSince: NIODeadline?

    private let requestTimeout: TimeAmount
    /// When the request the connection waits for must have arrived whole; nil while one is being
    /// answered. One timer per connection checks it, re-armed lazily, not one per request.
    private var waitingUntil: NIODeadline?
    private var requestTimer: Scheduled<Void>?
    /// Writes a streamed response body; the connection closes when it ends.
    private var streamTask: Task<Void, Never>?
    private var loopExecutor: EventLoopTaskExecutor?
    private var peerDescription: String??
    /// The last response's buffer, written again for the next response: two allocations less
    /// per response. At most `spareBufferCapacity`; shared with the socket until it is written.
    private var spareBuffer: ByteBuffer?

    /// The client's address as text, computed once per connection.
    private func peer(_ context: ChannelHandlerContext) -> String? {
        if let known = self.peerDescription { return known }
        let description = context.channel.remoteAddress?.description
        self.peerDescription = .some(description)
        return description
    }

    private func taskExecutor(_ loop: any EventLoop) -> EventLoopTaskExecutor {
        if let executor = self.loopExecutor { return executor }
        let executor = EventLoopTaskExecutor(loop: loop)
        self.loopExecutor = executor
        return executor
    }

    /// - Parameter firstRequestDeadline: when the first request's head must have arrived (the
    ///   connection's handshake deadline); later requests get `requestTimeout` each.
    init(
        service: any HTTPService, maxBodySize: Int, requestTimeout: TimeAmount = .seconds(30),
        firstRequestDeadline: NIODeadline? = nil
    ) {
        self.service = service
        self.maxBodySize = maxBodySize
        self.requestTimeout = requestTimeout
        self.waitingUntil = firstRequestDeadline
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let deadline = self.waitingUntil ?? .now() + self.requestTimeout
        self.waitingUntil = deadline
        self.armRequestTimer(context, at: deadline)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.requestTimer?.cancel()
        self.connectionGone()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.connectionGone()
        context.fireChannelInactive()
    }

    /// The client left: requests still being worked on are cancelled (an SSE subscription's
    /// watch call with them), and responses finished later are let go, not kept.
    private func connectionGone() {
        self.closed = true
        self.lingerTimer?.cancel()
        self.lingerTimer = nil
        self.streamTask?.cancel()
        for task in self.pendingTasks.values { task.cancel() }
        self.pendingTasks = [:]
        self.abandonWaitingStreams()
    }

    /// Streamed responses still queued behind others will never be sent: let them go.
    private func abandonWaitingStreams() {
        for (_, (response, _)) in self.finished { response.stream?.abandon() }
        self.finished = [:]
        self.asked = [:]
    }

    /// The next request must arrive whole in time (slowloris, and the keep-alive idle limit).
    /// When the timer fires early (requests came and went meanwhile), it re-arms for the rest.
    private func armRequestTimer(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.requestTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            let stallDeadline = handler.stalledSince.map { $0 + handler.requestTimeout }
            guard let until = [handler.waitingUntil, stallDeadline].compactMap({ $0 }).min() else {
                handler.armRequestTimer(context, at: .now() + handler.requestTimeout)
                return
            }
            if until <= .now() {
                context.channel.close(promise: nil)
            } else {
                handler.armRequestTimer(context, at: until)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        guard !self.answering, self.waiting.isEmpty else {
            self.wait(.part(part))
            return
        }
        self.receive(part, context: context)
    }

    /// Queues what came behind the request being answered, up to `maxWaiting`; past that, and
    /// once the connection is closing, it is dropped.
    private func wait(_ inbound: Inbound) {
        guard !self.closing, self.waiting.count <= Self.maxWaiting else { return }
        // The part past the limit becomes the one `.overflow`; later ones fail the guard.
        self.waiting.append(self.waiting.count < Self.maxWaiting ? inbound : .overflow)
    }

    /// Holds the socket's reads back while parts wait: what the client sends meanwhile stays in
    /// the kernel's buffers (and, once those fill, with the client).
    func read(context: ChannelHandlerContext) {
        if self.lingering || (self.waiting.isEmpty && !self.closing) {
            context.read()
        } else {
            self.readHeldBack = true
        }
    }

    /// Delivers the waiting parts once the response before them is written, until one of them
    /// completes a request again; then reads again once none wait.
    private func deliverWaiting(context: ChannelHandlerContext) {
        guard !self.delivering else { return }
        self.delivering = true
        defer { self.delivering = false }
        while !self.answering, !self.closed, let next = self.waiting.popFirst() {
            switch next {
            case .part(let part): self.receive(part, context: context)
            case .malformed: self.answerMalformed(context: context)
            case .overflow:
                self.waiting.removeAll()
                self.closeAfterWrites(context: context, after: nil)
            }
        }
        if self.waiting.isEmpty, self.readHeldBack, !self.closed, !self.closing {
            self.readHeldBack = false
            context.read()
        }
    }

    private func receive(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            self.head = head
            self.fields = HeadFields(head)
            // The head came in time (the first one within the handshake deadline): the body gets
            // `requestTimeout` from here to arrive whole.
            self.waitingUntil = .now() + self.requestTimeout
            self.body = []
            self.bodyTooLarge = false
            self.refused = nil
            self.discarding = false
            if let problem = self.fields.hostProblem(head.version) {
                self.refused = problem
            } else if self.fields.hasBody {
                self.refused = self.service.admit(self.request(head, fields: self.fields, body: [], context: context))
            }
            if head.version == .http1_1 && self.fields.expectsContinue { self.answerExpectation(head, context: context) }
        case .body(var buffer):
            guard !self.bodyTooLarge, self.refused == nil, !self.discarding else { return }
            if self.body.count + buffer.readableBytes > self.maxBodySize {
                self.bodyTooLarge = true
                self.body = []
                return
            }
            self.body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let fields = self.fields
            self.fields = HeadFields()
            self.waitingUntil = nil
            let sequence = self.nextToStart
            self.nextToStart += 1
            if let asked = Asked.of(head) { self.asked[sequence] = asked }
            if let refused = self.refused {
                self.refused = nil
                self.complete(sequence, refused, keepAlive: head.isKeepAlive && !self.draining, context: context)
                return
            }
            if self.bodyTooLarge {
                self.complete(sequence, self.bodyTooLargeResponse, keepAlive: false, context: context)
                return
            }
            let request = self.request(head, fields: fields, body: self.body, context: context)
            self.body = []
            // After an upgrade or CONNECT request NIO's decoder parses nothing more (RFC 9110
            // §7.8, §9.3.6): we upgrade to nothing, so the connection ends with the response.
            let keepAlive = head.isKeepAlive && !self.draining && !(head.method == .CONNECT || fields.upgrade)
            let loop = context.eventLoop
            let loopBound = NIOLoopBound((self, context), eventLoop: loop)
            switch self.service.handle(request) {
            case .response(let response):
                self.complete(sequence, response, keepAlive: keepAlive, context: context)
            case .pending(let work):
                // The rest runs on this connection's loop: no thread hop unless it awaits one.
                self.pendingTasks[sequence] = Task(executorPreference: self.taskExecutor(loop)) {
                    let response = await work()
                    loop.onLoop {
                        let (handler, context) = loopBound.value
                        handler.pendingTasks[sequence] = nil
                        handler.complete(sequence, response, keepAlive: keepAlive, context: context)
                    }
                }
            }
        }
    }

    private func request(
        _ head: HTTPRequestHead, fields: HeadFields, body: [UInt8], context: ChannelHandlerContext
    ) -> HTTPRequest {
        HTTPRequest(
            method: head.method.rawValue,
            target: head.uri,
            headers: fields.lowercased,
            body: body,
            peer: self.peer(context)
        )
    }

    /// RFC 9110 §10.1.1: a client that sent `Expect: 100-continue` waits for an interim 100
    /// before its body (curl waits a second). A request refused from its head, or announcing a
    /// body over the limit, gets its final answer now instead, and the connection closes after
    /// it (the client may or may not send the body).
    private func answerExpectation(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let length = self.fields.contentLength.flatMap { Int($0) } ?? 0
        let answer = self.refused ?? (length > self.maxBodySize ? self.bodyTooLargeResponse : nil)
        guard let answer else {
            context.writeAndFlush(
                self.wrapOutboundOut(context.channel.allocator.buffer(string: HTTP1Wire.continueHead)), promise: nil
            )
            return
        }
        self.head = nil
        self.fields = HeadFields()
        self.refused = nil
        self.discarding = true
        self.waitingUntil = nil
        let sequence = self.nextToStart
        self.nextToStart += 1
        if let asked = Asked.of(head) { self.asked[sequence] = asked }  // a HEAD's answer has no body
        self.complete(sequence, answer, keepAlive: false, context: context)
    }

    private var bodyTooLargeResponse: HTTPResponse {
        HTTPResponse.error(
            ServiceError(.resourceExhausted, "request body is larger than \(self.maxBodySize) bytes"),
            status: 413  // RFC 9110 §15.5.14 Content Too Large
        )
    }

    private func complete(_ sequence: Int, _ response: HTTPResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        guard !self.closed else {
            response.stream?.abandon()
            return
        }
        self.finished[sequence] = (response, keepAlive)
        self.writeFinished(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { self.writeFinished(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// Writes the finished responses that are next in order, while the socket takes them.
    private func writeFinished(context: ChannelHandlerContext) {
        var wrote = false
        while self.streamTask == nil, context.channel.isWritable,
            let (response, keepAlive) = self.finished.removeValue(forKey: self.nextToWrite)
        {
            let asked = self.asked.isEmpty ? Asked() : self.asked.removeValue(forKey: self.nextToWrite) ?? Asked()
            let headOnly = asked.headOnly
            self.nextToWrite += 1
            if let stream = response.stream {
                guard headOnly else {
                    // Later pipelined requests go unanswered: the stream ends the connection.
                    self.startStream(stream, head: response, chunked: !asked.readsNoChunks, context: context)
                    return
                }
                stream.abandon()
            }
            let keepAlive = keepAlive && response.stream == nil && !(self.draining && self.nextToWrite == self.nextToStart)
            if !keepAlive {
                let written = context.eventLoop.makePromise(of: Void.self)
                self.write(response, keepAlive: false, headOnly: headOnly, promise: written, context: context)
                self.closeAfterWrites(context: context, after: written.futureResult)
                return
            }
            self.write(response, keepAlive: true, headOnly: headOnly, announceKeepAlive: asked.keepAliveSaid, context: context)
            wrote = true
        }
        // A finished response left waiting for the socket starts (or keeps) the stall clock.
        let waiting = self.streamTask == nil && self.finished[self.nextToWrite] != nil
        self.stalledSince = waiting ? (self.stalledSince ?? .now()) : nil
        guard wrote else { return }
        context.flush()
        if self.nextToWrite == self.nextToStart && self.head == nil {
            self.waitingUntil = .now() + self.requestTimeout
        }
        self.deliverWaiting(context: context)
    }

    /// Flushes, and closes the connection once `written` (the last write) is on the socket, or
    /// after an empty write when nil; from now on nothing more is read or handled. A client that
    /// does not take the rest gets `requestTimeout` to, then the connection closes anyway.
    private func closeAfterWrites(context: ChannelHandlerContext, after written: EventLoopFuture<Void>?) {
        self.closing = true
        self.spareBuffer = nil
        let deadline = NIODeadline.now() + self.requestTimeout
        self.waitingUntil = deadline
        // The timer may be armed for later (the handshake deadline can be the longer one).
        self.requestTimer?.cancel()
        self.armRequestTimer(context, at: deadline)
        let channel = context.channel
        let last = written ?? context.write(self.wrapOutboundOut(channel.allocator.buffer(capacity: 0)))
        context.flush()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        last.whenComplete { _ in
            let (handler, context) = loopBound.value
            handler.linger(context)
        }
    }

    /// RFC 9112 §9.6: closing while the client's bytes (pipelined requests we will not answer)
    /// sit unread would make the kernel reset the connection, and a reset destroys responses the
    /// client has not read yet. So our side is shut first (the client reads everything, then
    /// the end), and what it still sends is read and dropped until it closes, at most
    /// `lingerTime`.
    private func linger(_ context: ChannelHandlerContext) {
        guard !self.closed else { return }
        self.lingering = true
        let channel = context.channel
        channel.close(mode: .output, promise: nil)
        self.lingerTimer = channel.eventLoop.scheduleTask(in: Self.lingerTime) { channel.close(promise: nil) }
        context.read()
    }

    /// Writes a whole response: `headOnly` (a HEAD request's) without its body, a 204 or 304
    /// without body or framing field (RFC 9110 §8.6, §15); a streamed one's head only. A status
    /// outside 200...999 (a 1xx is no final answer) or a field that cannot be sent (`HTTP1Wire`)
    /// gets 500 instead.
    private func write(
        _ response: HTTPResponse, keepAlive: Bool, headOnly: Bool = false, announceKeepAlive: Bool = false,
        promise: EventLoopPromise<Void>? = nil, context: ChannelHandlerContext
    ) {
        guard HTTP1Wire.isValid(response.headers), (200...999).contains(response.status) else {
            self.write(Self.invalidFieldsResponse, keepAlive: keepAlive, headOnly: headOnly, promise: promise, context: context)
            return
        }
        let noContent = response.status == 204 || response.status == 304
        let framing: HTTP1Wire.Framing =
            noContent ? .none : response.stream != nil ? .chunked : .length(response.body.count)
        let withBody = !noContent && !headOnly
        let capacity = 160 + 32 * response.headers.count + (withBody ? response.body.count : 0)
        var buffer: ByteBuffer
        if var spare = self.spareBuffer.take() {
            // Its storage is reused when the socket let go of the last response (nearly always).
            spare.clear(minimumCapacity: capacity)
            buffer = spare
        } else {
            buffer = context.channel.allocator.buffer(capacity: capacity)
        }
        let connection: HTTP1Wire.Connection = !keepAlive ? .close : announceKeepAlive ? .keepAlive : .unsaid
        HTTP1Wire.writeHead(status: response.status, headers: response.headers, framing: framing, connection: connection, into: &buffer)
        if withBody { buffer.writeBytes(response.body) }
        context.write(self.wrapOutboundOut(buffer), promise: promise)
        if buffer.capacity <= Self.spareBufferCapacity { self.spareBuffer = buffer }
    }

    /// The largest response buffer a connection keeps for its next response: a session's JSON
    /// fits. An idle keep-alive connection holds at most this much, until its idle timeout;
    /// streaming and closing connections hold none.
    static let spareBufferCapacity = 2048

    /// Sent instead of a response that cannot go on the wire (`write`).
    private static let invalidFieldsResponse = HTTPResponse.error(
        ServiceError(.internal, "the response had a status or header that cannot be sent")
    )

    /// Sends the head, then each chunk as the producer writes it (waiting for the socket, so a
    /// slow reader slows the producer), then ends and closes the connection. Not `chunked` (an
    /// HTTP/1.0 client): the bytes go out as they are and the close ends the body.
    ///
    /// When the producer fails, the connection closes without the last chunk, so the client sees
    /// the body cut short (RFC 9112 §8) instead of complete.
    private func startStream(
        _ stream: HTTPBodyStream, head response: HTTPResponse, chunked: Bool, context: ChannelHandlerContext
    ) {
        // No more whole responses on this connection: a stream may last hours.
        self.spareBuffer = nil
        // Not `closing`: the socket is still read while the stream lasts, so a client that leaves
        // is noticed and the stream's producer cancelled; requests it pipelines wait, bounded.
        guard HTTP1Wire.isValid(response.headers), (200...999).contains(response.status) else {
            stream.abandon()
            let written = context.eventLoop.makePromise(of: Void.self)
            self.write(Self.invalidFieldsResponse, keepAlive: false, promise: written, context: context)
            self.closeAfterWrites(context: context, after: written.futureResult)
            return
        }
        var head = context.channel.allocator.buffer(capacity: 160 + 32 * response.headers.count)
        HTTP1Wire.writeHead(
            status: response.status, headers: response.headers, framing: chunked ? .chunked : .untilClose,
            connection: .close, into: &head
        )
        context.writeAndFlush(self.wrapOutboundOut(head), promise: nil)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        // On this connection's loop, as every other handler task: the producer does not queue
        // behind whatever else the process runs on Swift's global executor, and its chunks are
        // written without a hop (`onLoop` hops only when the producer resumed elsewhere).
        self.streamTask = Task(executorPreference: self.taskExecutor(loop)) {
            let finished: Bool
            do {
                try await stream.produce { bytes in
                    guard !bytes.isEmpty else { return }  // an empty chunk would end the body
                    let promise = loop.makePromise(of: Void.self)
                    loop.onLoop {
                        let (handler, context) = loopBound.value
                        var buffer = context.channel.allocator.buffer(capacity: bytes.count + 12)
                        if chunked { HTTP1Wire.writeChunk(bytes, into: &buffer) } else { buffer.writeBytes(bytes) }
                        context.writeAndFlush(handler.wrapOutboundOut(buffer), promise: promise)
                    }
                    try await promise.futureResult.get()
                }
                finished = true
            } catch {
                finished = false  // the client left, or the producer failed mid-stream
            }
            loop.onLoop {
                let (handler, context) = loopBound.value
                let channel = context.channel
                let last = channel.allocator.buffer(string: finished && chunked ? HTTP1Wire.lastChunk : "")
                context.writeAndFlush(handler.wrapOutboundOut(last)).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    /// Closes now if idle; otherwise the last in-flight response closes the connection.
    func beginGracefulShutdown(channel: any Channel) {
        self.draining = true
        if self.nextToWrite == self.nextToStart {
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A malformed request line or header: answered with 400 after the responses to the
        // requests before it, then the connection closes (the decoder reads nothing after it).
        if case ByteToMessageDecoderError.dataReceivedInErrorState = error { return }  // the 400 is on its way
        guard error is HTTPParserError else {
            context.close(promise: nil)
            return
        }
        guard !self.answering, self.waiting.isEmpty else {
            // Once: after its first error the decoder may report the same bytes again.
            if !self.waiting.contains(where: { if case .malformed = $0 { true } else { false } }) { self.wait(.malformed) }
            return
        }
        self.answerMalformed(context: context)
    }

    private func answerMalformed(context: ChannelHandlerContext) {
        self.head = nil
        self.fields = HeadFields()
        self.refused = nil
        self.waitingUntil = nil
        let sequence = self.nextToStart
        self.nextToStart += 1
        let response = HTTPResponse.error(ServiceError(.invalidArgument, "malformed HTTP request"))
        self.complete(sequence, response, keepAlive: false, context: context)
    }
}

/// What the handler needs of a request head's fields, read in one pass: NIO's `HTTPHeaders` hold
/// `String`s, and each pass over them retains and compares every one.
private struct HeadFields {
    /// The fields with lower-cased names, in arrival order (`HTTPRequest.headers`).
    var lowercased: [(name: String, value: String)] = []
    var hosts = 0
    /// The first `content-length`.
    var contentLength: String?
    var transferEncoding = false
    /// `Expect: 100-continue` (RFC 9110 §10.1.1).
    var expectsContinue = false
    /// An `upgrade` field: NIO's decoder parses nothing after such a request (RFC 9110 §7.8).
    var upgrade = false

    init() {}

    init(_ head: HTTPRequestHead) {
        self.lowercased.reserveCapacity(head.headers.count)
        for (name, value) in head.headers {
            let name = name.asciiLowercased
            switch name.utf8.count {  // most names are none of these, and most differ in length
            case 4 where name == "host": self.hosts += 1
            case 14 where name == "content-length": self.contentLength = self.contentLength ?? value
            case 17 where name == "transfer-encoding": self.transferEncoding = true
            case 6 where name == "expect":
                self.expectsContinue = self.expectsContinue
                    || value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "100-continue" }
            case 7 where name == "upgrade": self.upgrade = true
            default: break
            }
            self.lowercased.append((name, value))
        }
    }

    /// Whether a body follows the head (RFC 9112 §6.3: Content-Length or Transfer-Encoding).
    var hasBody: Bool {
        self.transferEncoding || (self.contentLength.map { $0 != "0" } ?? false)
    }

    /// RFC 9112 §3.2: an HTTP/1.1 request carries exactly one `Host` field, any request at most
    /// one; a server answers others with 400. Its body, if any, is discarded (as a refusal's).
    func hostProblem(_ version: HTTPVersion) -> HTTPResponse? {
        if self.hosts == 1 || (self.hosts == 0 && version == .http1_0) { return nil }
        let rule = version == .http1_0 ? "at most one" : "exactly one"
        return HTTPResponse.error(
            ServiceError(.invalidArgument, "a request must carry \(rule) Host field (RFC 9112 §3.2); this one has \(self.hosts)")
        )
    }
}
