import HTTPMessages
import Foundation
import Logging
import NIOCore
import RPCCore
import ServiceErrors

/// Serves one HTTP/2 connection: gRPC calls through the router, other requests through the
/// `HTTPService` (REST over h2).
///
/// Everything here runs on the connection's event loop. Handlers run in a task per call and come
/// back through `onLoop`; output is written once per read batch or loop tick, never per response.
///
/// Bounds (STYLE §12): request bytes held for clients count against
/// `maxBufferedBytesPerConnection`, and flow-control credit comes back only within it; nghttp2's
/// output is taken only while the socket is writable, and reading stops while it is not (or
/// while more than `maxQueuedOutputBytesPerConnection` of responses wait), so a client that does
/// not read stops itself and nghttp2's flood limits see its backlog.
final class HTTP2ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Output taken from nghttp2 per write: the socket gets a chance to drain between writes.
    static let outputChunk = 64 * 1024

    /// Response bytes buffered per stream before a streaming sender has to wait.
    static let streamHighWater = 64 * 1024

    let router: RPCRouter
    let httpService: any HTTPService
    let configuration: TransportConfiguration
    let logger: Logger
    var session: HTTP2Session?
    var streams: [Int32: ServerStream] = [:]
    var context: ChannelHandlerContext?
    private var flushScheduled = false
    /// The buffer of the last write, kept for the next one unless it grew past this.
    private var outputBuffer: ByteBuffer?
    private static let keptOutputCapacity = 16 * 1024
    var closing = false
    /// Handlers' tasks run on this connection's event loop unless they choose otherwise.
    var taskExecutor: EventLoopTaskExecutor?
    /// The client's address as text, computed once per connection (it is on every call's context).
    lazy var peerDescription: String? = self.context?.channel.remoteAddress?.description
    /// Liveness bookkeeping for the idle and keepalive timers.
    private var lastRead = NIODeadline.now()
    private var pingSentAt: NIODeadline?
    private var livenessTimer: RepeatedTask?
    /// The connection's budget in use: every stream's `reservedBytes` and `queuedBytes`.
    var reservedBytes = 0
    /// Streams waiting, in arrival order, for a share of the budget.
    var waitingForBudget: [Int32] = []
    /// A read the channel asked for while output was backed up; issued once it drains.
    private var readPending = false

    init(router: RPCRouter, httpService: any HTTPService, configuration: TransportConfiguration, logger: Logger) {
        self.router = router
        self.httpService = httpService
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.taskExecutor = EventLoopTaskExecutor(loop: context.eventLoop)
        var limits = HTTP2SessionLimits(
            maxConcurrentStreams: self.configuration.maxConcurrentStreams,
            maxHeaderListSize: self.configuration.maxHeaderListSize
        )
        limits.manualFlowControl = true
        do {
            self.session = try HTTP2Session(role: .server, limits: limits, allocator: context.channel.allocator)
            self.writeOutput()  // our SETTINGS go out first
            self.startLivenessTimer(context)
        } catch {
            self.logger.error("cannot start an HTTP/2 session", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // The context keeps this handler: holding the context after removal would keep both, and
        // the buffers, alive for good, a leak per connection.
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session = self.session else { return }
        self.lastRead = .now()
        self.pingSentAt = nil
        do {
            try session.receive(self.unwrapInboundIn(data))
        } catch {
            // nghttp2 queued a GOAWAY for a connection error; send it, then close.
            self.logger.debug("closing HTTP/2 connection", metadata: ["error": "\(error)"])
            self.writeOutput()
            context.close(promise: nil)
            return
        }
        session.drainEvents { self.handle($0) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.writeOutput()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.livenessTimer?.cancel()
        for stream in self.streams.values {
            self.abandon(stream)
        }
        self.streams.removeAll()
        self.session = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Stops taking new streams (GOAWAY) and closes once the open ones finish.
    func beginGracefulShutdown() {
        guard !self.closing else { return }
        self.closing = true
        self.session?.goAway()
        self.writeOutput()
        if self.streams.isEmpty { self.context?.close(promise: nil) }
    }

    // MARK: Idle and keepalive

    /// Checks a few times per period whether the connection idled out or stopped answering.
    private func startLivenessTimer(_ context: ChannelHandlerContext) {
        let shortest = min(self.configuration.idleTimeout, self.configuration.keepaliveInterval,
                           self.configuration.keepaliveTimeout)
        let period = TimeAmount.nanoseconds(max(10_000_000, TimeAmount(shortest).nanoseconds / 4))
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.livenessTimer = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            handler.value.checkLiveness()
        }
    }

    private func checkLiveness() {
        guard let context = self.context, let session = self.session else { return }
        let now = NIODeadline.now()
        let quiet = now - self.lastRead
        if let sent = self.pingSentAt {
            if now - sent >= TimeAmount(self.configuration.keepaliveTimeout) {
                self.logger.debug("closing a connection that stopped answering PINGs")
                context.close(promise: nil)
            }
            return
        }
        if self.streams.isEmpty && quiet >= TimeAmount(self.configuration.idleTimeout) {
            self.beginGracefulShutdown()
            return
        }
        if quiet >= TimeAmount(self.configuration.keepaliveInterval) {
            self.pingSentAt = now
            session.ping()
            self.writeOutput()
        }
    }


    // MARK: Output

    /// Writes what nghttp2 has queued, in writes of up to `outputChunk` bytes while the socket is
    /// writable; what is left waits in nghttp2 until the socket drains.
    private func writeOutput() {
        guard let context = self.context, let session = self.session else { return }
        self.grantWaitingStreams()
        while context.channel.isWritable {
            // The last write's buffer is reused once the socket has written it (then it is ours alone).
            var buffer = self.outputBuffer ?? context.channel.allocator.buffer(capacity: 4096)
            self.outputBuffer = nil
            buffer.clear()
            do {
                try session.pendingOutput(into: &buffer, limit: Self.outputChunk)
            } catch {
                context.close(promise: nil)
                return
            }
            let written = buffer.readableBytes
            if written > 0 {
                context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
            }
            if buffer.capacity <= Self.keptOutputCapacity { self.outputBuffer = buffer }
            if written < Self.outputChunk { break }  // nghttp2 has nothing more
        }
        session.drainEvents { self.handle($0) }
        self.releaseWriteWaiters()
        if !session.isAlive || (self.closing && self.streams.isEmpty) {
            context.close(promise: nil)
            return
        }
        if self.readPending && !self.outputBackedUp(context) {
            self.readPending = false
            context.read()
        }
    }

    /// Whether the socket is not taking our output: then nothing more is read from the client.
    /// (Only writability counts: frames the client must send for queued output to move — its
    /// WINDOW_UPDATEs — have to be read whatever is queued; the output cap refuses new streams
    /// instead, in `openStream`.)
    private func outputBackedUp(_ context: ChannelHandlerContext) -> Bool {
        !context.channel.isWritable
    }

    func read(context: ChannelHandlerContext) {
        if self.outputBackedUp(context) {
            self.readPending = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { self.writeOutput() }
        context.fireChannelWritabilityChanged()
    }

    /// Writes on the next loop tick, coalescing everything that completes before it.
    func scheduleOutput() {
        guard !self.flushScheduled, let context = self.context else { return }
        self.flushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            handler.value.flushScheduled = false
            handler.value.writeOutput()
        }
    }

    private func releaseWriteWaiters() {
        guard let session = self.session else { return }
        for stream in self.streams.values where !stream.writeWaiters.isEmpty {
            if session.bufferedBytes(on: stream.id) < Self.streamHighWater {
                let waiters = stream.writeWaiters
                stream.writeWaiters = []
                for waiter in waiters { waiter.succeed() }
            }
        }
    }

    // MARK: Events

    private func handle(_ event: HTTP2Event) {
        switch event {
        case .headers(let streamID, let fields, let endStream):
            if let stream = self.streams[streamID] {
                // Trailers from the client end its half of the stream.
                if endStream { self.endOfRequest(stream) }
            } else {
                self.openStream(streamID, fields: fields, endStream: endStream)
            }
        case .data(let streamID, let bytes):
            // The connection's window never waits (a stream that must wait cannot hold up the
            // others); each stream's window reopens as `creditStream` allows.
            self.session?.consumeConnection(bytes.readableBytes)
            guard let stream = self.streams[streamID] else { return }
            stream.unconsumedBytes += bytes.readableBytes
            self.receiveData(bytes, on: stream)
            self.creditStream(stream)
        case .endStream(let streamID):
            guard let stream = self.streams[streamID] else { return }
            self.endOfRequest(stream)
        case .streamClosed(let streamID, _):
            guard let stream = self.streams.removeValue(forKey: streamID) else { return }
            self.abandon(stream)
            self.releaseBudget(of: stream)
            // What it held may let a waiting stream go: grant on the next tick (this may be
            // the tail of a write, after this tick's grants ran).
            if !self.waitingForBudget.isEmpty { self.scheduleOutput() }
            if self.closing && self.streams.isEmpty { self.scheduleOutput() }
        case .goAway:
            break
        case .headerListTooLarge(let streamID):
            // RFC 6585 §5: 431 Request Header Fields Too Large.
            try? self.session?.submitResponse(
                streamID: streamID,
                headers: [(":status", "431"), ("content-length", "0")],
                endStream: true
            )
        }
    }

    /// The client reset the stream or the connection went away: cancel whatever still runs.
    func abandon(_ stream: ServerStream) {
        switch stream.kind {
        case .grpc:
            self.perform(stream.grpc.streamReset(), on: stream)
        case .http:
            stream.httpFinished = true
            stream.task?.cancel()
            for waiter in stream.writeWaiters { waiter.fail(ServiceError(.cancelled, "the client cancelled the call")) }
            stream.writeWaiters = []
            self.dropRequestBytes(stream)
        }
    }
}
