import Foundation
import NIOCore
import RPCCore
import ServiceErrors

/// gRPC over HTTP/2 (grpc/doc/PROTOCOL-HTTP2.md): request validation, message framing, dispatch
/// to the router's handlers, and status trailers.
extension HTTP2ConnectionHandler {
    static let grpcResponseHeaders: [(name: String, value: String)] = [
        (":status", "200"), ("content-type", "application/grpc"), ("grpc-accept-encoding", "identity,gzip"),
    ]
    /// The same, and OK trailers, laid out once for nghttp2: most calls send exactly these.
    static let grpcResponseHeaderBlock = HTTP2HeaderBlock(grpcResponseHeaders, permanent: true)
    static let okTrailerBlock = HTTP2HeaderBlock([("grpc-status", "0")], permanent: true)

    /// gRPC's response headers followed by `extra`: the prepared block when there is nothing extra.
    static func grpcResponseHeaders(plus extra: [(name: String, value: String)]) -> HTTP2HeaderBlock {
        extra.isEmpty ? Self.grpcResponseHeaderBlock : HTTP2HeaderBlock(Self.grpcResponseHeaders + extra)
    }

    func openStream(_ streamID: Int32, fields: [(name: String, value: String)], endStream: Bool) {
        let contentType = fields.first { $0.name == "content-type" }?.value ?? ""
        var dialect = ServerStream.Dialect.grpc
        var isGRPC = contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
            || contentType.hasPrefix("application/grpc;")
        if !isGRPC, let web = self.fullDuplexDialect(contentType: contentType, fields: fields) {
            dialect = web
            isGRPC = true
        }
        let reader = LengthPrefixedMessageReader(maxMessageSize: self.configuration.maxReceiveMessageSize)
        let stream = ServerStream(id: streamID, kind: isGRPC ? .grpc : .http, dialect: dialect, headers: fields, reader: reader)
        self.streams[streamID] = stream
        // A client that does not read what it asked for gets no new work until it catches up
        // (clients retry a refused stream safely, RFC 9113 §8.7).
        if let session = self.session, session.outboundBytes > self.configuration.maxQueuedOutputBytesPerConnection {
            session.reset(streamID, errorCode: HTTP2Session.ErrorCode.refusedStream)
            self.abandon(stream)
            return
        }
        guard isGRPC else {
            if endStream {
                self.dispatchHTTP(stream)
            } else if let refused = self.httpService.admit(self.httpRequest(stream)) {
                self.respond(stream, refused)  // its DATA is discarded, not buffered
                self.scheduleOutput()
            } else {
                // The body's share of the budget: its announced length, else the most it may be.
                let announced = stream.header("content-length").flatMap { Int($0) } ?? self.configuration.maxHTTPBodySize
                self.reserve(min(max(announced, 1), self.configuration.maxHTTPBodySize), for: stream)
            }
            return
        }
        // Interceptors need only metadata (authentication, rate limits): they run now, before any
        // DATA is accepted, so a refused call is answered Trailers-Only and its DATA discarded
        // instead of buffered.
        var refusal: ServiceError?
        do throws(ServiceError) {
            try self.prepareCall(stream)
            // In place: the context's fields are not shared yet, so the interceptors change
            // them without copying (`CallContext` copies its fields on a shared write).
            if let route = stream.route, stream.callContext != nil {
                try route.prepare(&stream.callContext!)
            }
        } catch {
            refusal = error
        }
        let streaming = stream.route?.method.kind.clientStreams ?? false
        self.perform(stream.grpc.headersReceived(streamingRequest: streaming, refusal: refusal), on: stream)
        if endStream { self.endOfRequest(stream) }
    }

    /// gRPC-Web and Connect (proto) calls of methods whose client streams — server reflection,
    /// as `buf curl --protocol connect` asks it — run as gRPC streams do, full duplex, with their
    /// status in the body. Their other calls are the HTTP service's (unary and server streaming
    /// over HTTP/1.1 and h2 alike).
    private func fullDuplexDialect(contentType: String, fields: [(name: String, value: String)]) -> ServerStream.Dialect? {
        guard contentType.hasPrefix("application/connect") || contentType.hasPrefix("application/grpc-web") else { return nil }
        let dialect: ServerStream.Dialect
        switch contentType.prefix(while: { $0 != ";" }).lowercased() {
        case "application/connect+proto": dialect = .connect
        case "application/grpc-web", "application/grpc-web+proto": dialect = .grpcWeb
        default: return nil
        }
        guard let path = fields.first(where: { $0.name == ":path" })?.value,
            let route = try? self.router.route(forPath: path), route.method.kind.clientStreams
        else { return nil }
        return dialect
    }

    /// Validates the request headers, finds the route and builds the call context, in one pass
    /// over the headers: protocol headers are read, the rest become metadata.
    private func prepareCall(_ stream: ServerStream) throws(ServiceError) {
        var method = "", path = "", te = ""
        var timeout: String?
        var metadata = Metadata()
        let connect = stream.dialect == .connect
        let names = connect ? CallHeaders.connectStreaming : CallHeaders.grpc
        for field in stream.headers {
            switch names.role(of: field.name) {
            case .method: method = field.value
            case .path: path = field.value
            case .te: te = field.value
            case .timeout: timeout = field.value
            case .encoding: stream.requestEncoding = try names.compression(field.value)
            case .acceptEncoding: stream.acceptsGzip = names.acceptsGzip(field.value)
            case .protocolVersion:
                guard field.value == "1" else {
                    throw ServiceError(.invalidArgument, "connect-protocol-version must be 1, not '\(field.value)'")
                }
            case .transport, .pseudo:
                continue  // part of the protocol, not custom metadata
            case .binaryMetadata:
                guard let bytes = GRPCWire.decodeBinaryHeader(field.value) else {
                    throw ServiceError(.invalidArgument, "metadata '\(field.name)' is not valid base64")
                }
                metadata.add(field.name, binary: bytes)
            case .metadata:
                metadata.add(field.name, field.value)
            }
        }
        guard method == "POST" else {
            throw ServiceError(.unimplemented, "gRPC requires :method POST")
        }
        guard te == "trailers" || stream.dialect != .grpc else {
            throw ServiceError(.internal, "gRPC requires the header te: trailers")
        }
        let route = try self.router.route(forPath: path)
        var deadline: ContinuousClock.Instant?
        if let timeout {
            let duration = try names.duration(timeout)
            deadline = .now + duration
            self.scheduleDeadline(stream, after: duration)
        }
        stream.route = route
        stream.callContext = CallContext(
            method: route.method,
            metadata: metadata,
            deadline: deadline,
            requestID: metadata["x-request-id"] ?? "",
            peer: self.peerDescription
        )
    }

    private func scheduleDeadline(_ stream: ServerStream, after duration: Duration) {
        guard let context = self.context else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let streamID = stream.id
        stream.deadlineTimer = context.eventLoop.scheduleTask(in: TimeAmount(duration)) {
            guard let stream = handler.value.streams[streamID] else { return }
            handler.value.perform(stream.grpc.deadlineExpired(), on: stream)
            handler.value.scheduleOutput()
        }
    }

    // MARK: Request body

    func receiveData(_ bytes: ByteBuffer, on stream: ServerStream) {
        guard !stream.finished else { return }
        if stream.kind == .http {
            self.receiveHTTPBody(bytes, on: stream)
            return
        }
        stream.reader.append(bytes)
        self.extractMessages(stream)
        stream.reader.retainPartial()
    }

    /// Moves whole messages out of the reader: a unary request is kept for dispatch; a streaming
    /// request's messages go to the handler's queue while it has room (`mayQueue`). What stays in
    /// the reader keeps its stream's flow-control credit (`creditStream`), so the client stops
    /// when the handler does; the next message asks for its share of the budget once its size
    /// is known.
    func extractMessages(_ stream: ServerStream) {
        let methodName = stream.route?.method.name ?? "method"
        do throws(ServiceError) {
            while !stream.finished, self.mayQueue(stream), let (message, wireSize) = try self.nextMessage(stream) {
                self.perform(stream.grpc.messageReceived(methodName: methodName), on: stream)
                guard !stream.finished else { break }
                if let input = stream.input {
                    // The message's share of the budget becomes its cost in the handler's queue.
                    let cost = max(message.count, ServerStream.queuedMessageOverhead)
                    stream.queuedMessageCosts.append(cost)
                    stream.queuedBytes += cost
                    self.reservedBytes += cost
                    self.releaseReservation(of: stream)
                    input.yield(RPCMessageSource.Delivery(bytes: message, size: wireSize))
                } else {
                    stream.requestMessage = message
                    self.reserve(wireSize, for: stream)  // already whole (one frame): counted all the same
                }
            }
        } catch {
            self.perform(stream.grpc.requestFailed(error), on: stream)
        }
        if stream.grpc.phase == .draining, self.mayQueue(stream) {
            // Everything whole has been handed over; what is left never formed a message.
            self.perform(stream.grpc.inputDrained(partialMessage: stream.reader.partialBytes > 0), on: stream)
        }
        // The next message's size is known: it asks for its share before its bytes are credited.
        if !stream.finished, stream.requestMessage == nil, let size = stream.reader.nextMessageWireSize {
            // A prefix over the limit fails when the message is read; until then it claims no more.
            self.reserve(min(size, self.configuration.maxReceiveMessageSize + 5), for: stream)
        }
    }

    /// The next request message and how many DATA bytes it took on the wire.
    private func nextMessage(_ stream: ServerStream) throws(ServiceError) -> ([UInt8], Int)? {
        let message: LengthPrefixedMessageReader.Message
        do {
            guard let next = try stream.reader.next() else { return nil }
            message = next
        } catch {
            throw ServiceError(limit: self.configuration.maxReceiveMessageSize, readerFailure: error)
        }
        let wireSize = 5 + message.bytes.count
        guard message.compressed else { return (message.bytes, wireSize) }
        guard stream.requestEncoding == "gzip" else {
            // PROTOCOL-HTTP2: a compressed message without an agreed encoding is a protocol error.
            throw ServiceError(.internal, "compressed message received without grpc-encoding")
        }
        stream.callContext?.requestCompressed = true
        return (try Gzip.decompressMessage(message.bytes, limit: self.configuration.maxReceiveMessageSize), wireSize)
    }

    func endOfRequest(_ stream: ServerStream) {
        if stream.kind == .http {
            if !stream.finished { self.dispatchHTTP(stream) }
            return
        }
        let partial = stream.reader.partialBytes > 0
        // With room in the handler's queue, whatever the reader still holds is an unfinished message.
        let wholeWaiting = partial && stream.input != nil && !self.mayQueue(stream)
        self.perform(
            stream.grpc.requestEnded(
                methodName: stream.route?.method.name ?? "method", wholeMessagesWaiting: wholeWaiting,
                partialMessage: partial
            ),
            on: stream
        )
    }

    /// Does what the stream's state machine decided, in order.
    func perform(_ actions: [GRPCServerStreamState.Action], on stream: ServerStream, message: [UInt8]? = nil,
                 sent: EventLoopPromise<Void>? = nil) {
        for action in actions {
            switch action {
            case .startHandler:
                self.startHandler(stream)
            case .finishInput:
                stream.input?.finish()
                stream.input = nil
            case .sendHeaders:
                self.sendResponseHeaders(stream)
            case .sendMessage:
                if let message { self.sendMessage(message, on: stream) }
                if let sent { self.admit(sent, on: stream) }
            case .sendStatus(let status):
                self.sendStatus(status, on: stream)
            case .refuseMessage:
                sent?.fail(ServiceError(.cancelled, "the call has ended"))
            case .cancelHandler:
                stream.task?.cancel()
            case .dropRequest:
                stream.deadlineTimer?.cancel()
                stream.input?.finish(throwing: ServiceError(.cancelled, "the call has ended"))
                stream.input = nil
                for waiter in stream.writeWaiters { waiter.fail(ServiceError(.cancelled, "the call has ended")) }
                stream.writeWaiters = []
                self.dropRequestBytes(stream)
            }
        }
    }

    // MARK: Dispatch

    /// Starts the route's handler, whatever its kind, in one task that reports back once through
    /// `handlerReturned`. A unary reply that needs no waiting (a cache hit) is sent from here:
    /// no task, no hop.
    private func startHandler(_ stream: ServerStream) {
        guard let context = self.context, let route = stream.route, let callContext = stream.callContext else { return }
        let request = stream.requestMessage ?? []
        // The message is the handler's now: it no longer counts against the connection's budget.
        stream.requestMessage = nil
        self.releaseReservation(of: stream)
        let run: @Sendable () async throws -> [UInt8]?
        switch route.handler {
        case .unary(let call):
            if let immediate = route.immediate {
                do {
                    if let reply = try immediate(request, callContext) {
                        self.handlerReturned(stream.id, .success(reply))
                        return
                    }
                } catch {
                    self.handlerReturned(stream.id, .failure(error))
                    return
                }
            }
            run = { try await call(request, callContext) }
        case .serverStreaming(let call):
            let sink = self.makeSink(for: stream)
            run = {
                try await call(request, sink, callContext)
                return nil
            }
        case .clientStreaming(let call):
            let source = self.makeSource(for: stream)
            run = { try await call(source, callContext) }
        case .bidirectionalStreaming(let call):
            let source = self.makeSource(for: stream)
            let sink = self.makeSink(for: stream)
            run = {
                try await call(source, sink, callContext)
                return nil
            }
        }
        let streamID = stream.id
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        stream.task = Task(executorPreference: self.taskExecutor) {
            let result: Result<[UInt8]?, any Error>
            do {
                result = .success(try await run())
            } catch {
                result = .failure(error)
            }
            loop.onLoop { handler.value.handlerReturned(streamID, result) }
        }
    }

    /// The handler's input for a streaming request. The window reopens as the handler takes each
    /// message, so a handler that stops reading stops the client (HTTP/2 flow control) instead of
    /// making us buffer without bound.
    private func makeSource(for stream: ServerStream) -> RPCMessageSource {
        let streamID = stream.id
        let (requests, continuation) = AsyncThrowingStream<RPCMessageSource.Delivery, any Error>.makeStream()
        stream.input = continuation
        let handler = NIOLoopBound(self, eventLoop: self.context!.eventLoop)
        return RPCMessageSource(requests) { size in
            handler.eventLoop.onLoop {
                guard let stream = handler.value.streams[streamID] else { return }
                if !stream.queuedMessageCosts.isEmpty {
                    let cost = stream.queuedMessageCosts.removeFirst()
                    stream.queuedBytes -= cost
                    handler.value.reservedBytes -= cost
                }
                handler.value.extractMessages(stream)  // the queue has room again
                handler.value.creditStream(stream)
                handler.value.grantWaitingStreams()
                handler.value.scheduleOutput()
            }
        }
    }

    /// A sink that hops each message onto the loop and waits while the stream's buffer is full.
    private func makeSink(for stream: ServerStream) -> RPCMessageSink {
        let loop = self.context!.eventLoop
        let streamID = stream.id
        let handler = NIOLoopBound(self, eventLoop: loop)
        return RPCMessageSink { bytes in
            let promise = loop.makePromise(of: Void.self)
            loop.onLoop { handler.value.enqueue(bytes, on: streamID, promise: promise) }
            try await promise.futureResult.get()
        }
    }

    private func enqueue(_ message: [UInt8], on streamID: Int32, promise: EventLoopPromise<Void>) {
        guard let stream = self.streams[streamID] else {
            promise.fail(ServiceError(.cancelled, "the call has ended"))
            return
        }
        self.perform(stream.grpc.handlerSent(), on: stream, message: message, sent: promise)
        self.scheduleOutput()
    }

    /// Lets the sender go on at once while the stream's buffer is below its high-water mark;
    /// otherwise when it drains.
    private func admit(_ sent: EventLoopPromise<Void>, on stream: ServerStream) {
        if (self.session?.bufferedBytes(on: stream.id) ?? 0) < Self.streamHighWater {
            sent.succeed()
        } else {
            stream.writeWaiters.append(sent)
        }
    }

    // MARK: Completion

    /// The handler returned: a unary reply, nil for streaming responses, or an error.
    private func handlerReturned(_ streamID: Int32, _ result: Result<[UInt8]?, any Error>) {
        guard let stream = self.streams[streamID] else { return }
        switch result {
        case .success(let reply):
            self.perform(stream.grpc.handlerReturned(reply: reply != nil, error: nil), on: stream, message: reply)
        case .failure(let error):
            let serviceError = self.serviceError(from: error, stream: stream)
            self.perform(stream.grpc.handlerReturned(reply: false, error: serviceError), on: stream)
        }
        self.scheduleOutput()
    }

    /// The access log's line for a finished gRPC call.
    private func logCall(_ stream: ServerStream, error: ServiceError?, duration: Duration) {
        self.logger.info(
            "call",
            metadata: ["protocol": "\(stream.dialect.rawValue)", "method": "\(stream.header(":path") ?? "?")",
                "status": "\(error?.code.name ?? "OK")", "duration_ms": "\(duration.millisecondsText)",
                "request_id": "\(stream.callContext?.requestID ?? "")", "peer": "\(self.peerDescription ?? "")"]
        )
    }

    private func serviceError(from error: any Error, stream: ServerStream) -> ServiceError {
        let serviceError = ServiceError(wrapping: error)
        if let cause = serviceError.cause, serviceError.code == .internal {
            self.logger.error(
                "handler failed",
                metadata: ["method": "\(stream.route?.method.path ?? "?")", "error": "\(cause)",
                    "request_id": "\(stream.callContext?.requestID ?? "")"]
            )
        }
        return serviceError
    }

    private func sendResponseHeaders(_ stream: ServerStream) {
        guard let session = self.session else { return }
        var extra: [(name: String, value: String)] = []
        if stream.callContext?.response.compress == true, stream.acceptsGzip {
            stream.responseCompressed = true
            extra.append((stream.dialect == .connect ? "connect-content-encoding" : "grpc-encoding", "gzip"))
        }
        if let headers = stream.callContext?.response.headers, !headers.isEmpty {
            extra += GRPCWire.headerFields(headers)
        }
        do {
            try session.submitResponse(
                streamID: stream.id, headers: Self.responseHeaders(stream.dialect, plus: extra), endStream: false
            )
        } catch {
            session.reset(stream.id, errorCode: HTTP2Session.ErrorCode.internalError)
            self.perform(stream.grpc.streamReset(), on: stream)
        }
    }

    private func sendMessage(_ message: [UInt8], on stream: ServerStream) {
        guard let session = self.session, let context = self.context else { return }
        let frame = GRPCWire.frame(message, compress: stream.responseCompressed, allocator: context.channel.allocator)
        session.send(frame, on: stream.id)
    }

    /// Ends the call with a status: trailers after the messages, or Trailers-Only when no
    /// headers were sent yet. `nil` means OK.
    private func sendStatus(_ error: ServiceError?, on stream: ServerStream) {
        guard let session = self.session else { return }
        let duration = ContinuousClock.now - stream.startedAt
        stream.route?.metrics.record(error: error?.code, duration: duration)
        if self.configuration.accessLog { self.logCall(stream, error: error, duration: duration) }
        let trailerMetadata = stream.callContext?.response.trailers ?? Metadata()
        if stream.dialect != .grpc {
            self.sendStatusInBody(error, trailers: trailerMetadata, on: stream, session: session)
            return
        }
        if stream.grpc.headersSent {
            let trailers = error == nil && trailerMetadata.isEmpty
                ? Self.okTrailerBlock : HTTP2HeaderBlock(GRPCWire.trailerFields(error, trailerMetadata))
            session.finish(stream.id, trailers: trailers)
        } else {
            // Trailers-Only: one HEADERS frame with END_STREAM, carrying the handler's headers too.
            let headers = GRPCWire.headerFields(stream.callContext?.response.headers ?? Metadata())
            do {
                try session.submitResponse(
                    streamID: stream.id,
                    headers: Self.grpcResponseHeaders(plus: headers + GRPCWire.trailerFields(error, trailerMetadata)),
                    endStream: true
                )
            } catch {
                session.reset(stream.id, errorCode: HTTP2Session.ErrorCode.internalError)
            }
        }
    }

    /// gRPC's response headers, or gRPC-Web's or Connect's, followed by `extra`.
    private static func responseHeaders(_ dialect: ServerStream.Dialect, plus extra: [(name: String, value: String)])
        -> HTTP2HeaderBlock
    {
        switch dialect {
        case .grpc:
            return Self.grpcResponseHeaders(plus: extra)
        case .grpcWeb:
            return HTTP2HeaderBlock(
                [(":status", "200"), ("content-type", "application/grpc-web+proto"), ("grpc-accept-encoding", "identity,gzip")] + extra)
        case .connect:
            return HTTP2HeaderBlock(
                [(":status", "200"), ("content-type", "application/connect+proto"), ("connect-accept-encoding", "gzip")] + extra)
        }
    }

    /// gRPC-Web and Connect end a call in the body: the headers first if none went out yet, then
    /// gRPC-Web's trailer frame or Connect's end-of-stream message, with END_STREAM.
    private func sendStatusInBody(_ error: ServiceError?, trailers: Metadata, on stream: ServerStream, session: HTTP2Session) {
        if !stream.grpc.headersSent {
            let headers = GRPCWire.headerFields(stream.callContext?.response.headers ?? Metadata())
            do {
                try session.submitResponse(streamID: stream.id, headers: Self.responseHeaders(stream.dialect, plus: headers), endStream: false)
            } catch {
                session.reset(stream.id, errorCode: HTTP2Session.ErrorCode.internalError)
                return
            }
        }
        let end: [UInt8]
        switch stream.dialect {
        case .grpc, .grpcWeb:
            end = GRPCWebWire.trailerFrame(error, metadata: trailers)
        case .connect:
            end = Envelope.encode(
                ConnectWire.endOfStream(error, metadata: GRPCWire.headerFields(trailers)), flags: Envelope.connectEndOfStream)
        }
        session.send(ByteBuffer(bytes: end), on: stream.id)
        session.finish(stream.id, trailers: nil)
    }
}
