import Foundation
import NIOCore
import RPCCore
import ServiceErrors

/// The client side of one HTTP/2 connection carrying gRPC calls, over nghttp2.
///
/// Everything here runs on the connection's event loop; `GRPCChannel` hops onto it.
final class HTTP2ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let authority: String
    private let maxMessageSize: Int
    private var session: HTTP2Session?
    private var streams: [Int32: ClientStream] = [:]
    private var context: ChannelHandlerContext?
    private var flushScheduled = false

    init(authority: String, maxMessageSize: Int) {
        self.authority = authority
        self.maxMessageSize = maxMessageSize
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        do {
            let limits = HTTP2SessionLimits(maxConcurrentStreams: 1000, maxHeaderListSize: 64 << 10)
            self.session = try HTTP2Session(role: .client, limits: limits, allocator: context.channel.allocator)
            self.writeOutput()
        } catch {
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session = self.session else { return }
        do {
            try session.receive(self.unwrapInboundIn(data))
            session.drainEvents { self.handle($0) }
        } catch {
            self.writeOutput()
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.writeOutput()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // The context keeps this handler: holding the context after removal would keep both alive
        // for good, a leak per connection.
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        for stream in self.streams.values {
            stream.complete(ServiceError(.unavailable, "the connection closed"))
        }
        self.streams.removeAll()
        self.session = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    var isUsable: Bool { self.session?.isAlive ?? false }

    // MARK: Calls (on the event loop)

    /// Opens a stream for `method`; responses arrive on `responses`.
    func open(
        _ method: RPCMethod,
        options: CallOptions,
        responses: AsyncThrowingStream<[UInt8], any Error>.Continuation
    ) throws(ServiceError) -> Int32 {
        guard let session = self.session, let context = self.context else {
            throw ServiceError(.unavailable, "the connection is closed")
        }
        var headers: [(name: String, value: String)] = [
            (":method", "POST"), (":scheme", "http"), (":path", method.path), (":authority", self.authority),
            ("content-type", "application/grpc"), ("te", "trailers"), ("grpc-accept-encoding", "identity,gzip"),
        ]
        if options.compressRequests { headers.append(("grpc-encoding", "gzip")) }
        if let timeout = options.timeout { headers.append(("grpc-timeout", GRPCWire.timeoutHeader(timeout))) }
        headers += GRPCWire.headerFields(options.metadata)
        let streamID: Int32
        do {
            streamID = try session.submitRequest(headers: headers, endStream: false)
        } catch {
            throw ServiceError(.unavailable, "cannot open a stream: \(error)")
        }
        let stream = ClientStream(
            responses: responses,
            responseMetadata: options.responseMetadata,
            reader: LengthPrefixedMessageReader(maxMessageSize: self.maxMessageSize)
        )
        self.streams[streamID] = stream
        if let timeout = options.timeout {
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            stream.deadlineTimer = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                handler.value.cancel(streamID, with: ServiceError(.deadlineExceeded, "the deadline passed"))
            }
        }
        self.scheduleOutput()
        return streamID
    }

    /// Sends one request message; the promise completes when the stream can take more.
    func send(_ message: [UInt8], compressed: Bool, on streamID: Int32, promise: EventLoopPromise<Void>) {
        guard let stream = self.streams[streamID], !stream.completed, let session = self.session,
            let context = self.context
        else {
            // The server already ended the call; its status arrives on the response stream.
            promise.fail(CallEnded())
            return
        }
        session.send(GRPCWire.frame(message, compress: compressed, allocator: context.channel.allocator), on: streamID)
        self.scheduleOutput()
        if session.bufferedBytes(on: streamID) < HTTP2ConnectionHandler.streamHighWater {
            promise.succeed()
        } else {
            stream.writeWaiters.append(promise)
        }
    }

    /// A send after the call ended: dropped, since the status on the response stream says why.
    struct CallEnded: Error {}

    /// Half-closes the request side.
    func finishSending(_ streamID: Int32) {
        self.session?.finish(streamID, trailers: nil)
        self.scheduleOutput()
    }

    /// Resets the stream and ends the call with `error`.
    func cancel(_ streamID: Int32, with error: ServiceError) {
        guard let stream = self.streams.removeValue(forKey: streamID) else { return }
        self.session?.reset(streamID, errorCode: HTTP2Session.ErrorCode.cancel)
        stream.complete(error)
        self.scheduleOutput()
    }

    // MARK: Output

    private func writeOutput() {
        guard let context = self.context, let session = self.session else { return }
        var buffer = context.channel.allocator.buffer(capacity: 0)
        do {
            try session.pendingOutput(into: &buffer)
        } catch {
            context.close(promise: nil)
            return
        }
        if buffer.readableBytes > 0 {
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        }
        session.drainEvents { self.handle($0) }
        for (streamID, stream) in self.streams where !stream.writeWaiters.isEmpty {
            if session.bufferedBytes(on: streamID) < HTTP2ConnectionHandler.streamHighWater {
                let waiters = stream.writeWaiters
                stream.writeWaiters = []
                for waiter in waiters { waiter.succeed() }
            }
        }
    }

    private func scheduleOutput() {
        guard !self.flushScheduled, let context = self.context else { return }
        self.flushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            handler.value.flushScheduled = false
            handler.value.writeOutput()
        }
    }

    // MARK: Events

    private func handle(_ event: HTTP2Event) {
        switch event {
        case .headers(let streamID, let fields, let endStream):
            guard let stream = self.streams[streamID] else { return }
            if !stream.responseHeadersReceived && !endStream {
                stream.responseHeadersReceived = true
                guard fields.first(where: { $0.name == ":status" })?.value == "200" else {
                    self.finish(streamID, ServiceError(.internal, "HTTP status \(fields.first { $0.name == ":status" }?.value ?? "?")"))
                    return
                }
                stream.responseEncoding = fields.first { $0.name == "grpc-encoding" }?.value
                stream.responseMetadata?.headers = Self.metadata(from: fields)
                return
            }
            // Trailers, or Trailers-Only when no headers came before.
            self.finish(streamID, Self.status(from: fields), trailers: fields)
        case .data(let streamID, let bytes):
            guard let stream = self.streams[streamID] else { return }
            stream.reader.append(bytes)
            do {
                while let message = try stream.reader.next() {
                    if message.compressed {
                        guard stream.responseEncoding == "gzip" else {
                            throw ServiceError(.internal, "compressed response without grpc-encoding")
                        }
                        stream.responses.yield(try Gzip.decompress(message.bytes, limit: self.maxMessageSize))
                    } else {
                        stream.responses.yield(message.bytes)
                    }
                }
            } catch let error as ServiceError {
                self.cancel(streamID, with: error)
            } catch {
                self.cancel(streamID, with: ServiceError(.resourceExhausted, "response message rejected: \(error)"))
            }
            stream.reader.retainPartial()
        case .endStream(let streamID):
            self.finish(streamID, ServiceError(.internal, "the server ended the stream without a status"))
        case .streamClosed(let streamID, let errorCode):
            guard let stream = self.streams.removeValue(forKey: streamID) else { return }
            let error: ServiceError =
                switch errorCode {
                case HTTP2Session.ErrorCode.cancel: ServiceError(.cancelled, "the server cancelled the stream")
                case HTTP2Session.ErrorCode.refusedStream: ServiceError(.unavailable, "the server refused the stream")
                case HTTP2Session.ErrorCode.enhanceYourCalm: ServiceError(.resourceExhausted, "the server asked us to calm down")
                default: ServiceError(.unavailable, "the stream closed without a status (HTTP/2 error \(errorCode))")
                }
            stream.complete(error)
        case .goAway:
            break
        case .headerListTooLarge(let streamID):
            self.cancel(streamID, with: ServiceError(.resourceExhausted, "response headers are too large"))
        }
    }

    private func finish(_ streamID: Int32, _ error: ServiceError?, trailers: [(name: String, value: String)] = []) {
        guard let stream = self.streams[streamID] else { return }
        stream.responseMetadata?.trailers = Self.metadata(from: trailers)
        stream.complete(error)
    }

    /// The call's status from trailers; nil for OK.
    private static func status(from fields: [(name: String, value: String)]) -> ServiceError? {
        guard let status = fields.first(where: { $0.name == "grpc-status" })?.value, let number = Int(status) else {
            return ServiceError(.internal, "the response has no grpc-status")
        }
        guard number != 0 else { return nil }
        let message = fields.first { $0.name == "grpc-message" }.map { GRPCWire.percentDecoded($0.value) } ?? ""
        let violations = fields.first { $0.name == "grpc-status-details-bin" }
            .map { GRPCWire.fieldViolations(fromStatusDetails: $0.value) } ?? []
        return ServiceError(ServiceError.Code(grpcStatus: number) ?? .unknown, message, fieldViolations: violations)
    }

    private static func metadata(from fields: [(name: String, value: String)]) -> Metadata {
        var metadata = Metadata()
        for field in fields where !field.name.hasPrefix(":") && !field.name.hasPrefix("grpc-")
            && field.name != "content-type"
        {
            if field.name.hasSuffix("-bin") {
                metadata.add(field.name, binary: GRPCWire.decodeBinaryHeader(field.value) ?? [])
            } else {
                metadata.add(field.name, field.value)
            }
        }
        return metadata
    }
}
