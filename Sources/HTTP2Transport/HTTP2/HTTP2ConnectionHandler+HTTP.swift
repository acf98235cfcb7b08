import HTTPMessages
import NIOCore
import ServiceErrors

/// Plain HTTP requests over HTTP/2 (the REST gateway over h2): buffered, then answered by the
/// `HTTPService`.
extension HTTP2ConnectionHandler {
    func receiveHTTPBody(_ bytes: ByteBuffer, on stream: ServerStream) {
        guard !stream.bodyTooLarge else { return }
        if stream.body.count + bytes.readableBytes > self.configuration.maxHTTPBodySize {
            stream.bodyTooLarge = true
            stream.body = []
        } else {
            stream.body += bytes.readableBytesView
        }
    }

    func dispatchHTTP(_ stream: ServerStream) {
        guard let context = self.context, stream.task == nil, !stream.finished else { return }
        if stream.bodyTooLarge {
            self.respond(stream, .error(ServiceError(
                .resourceExhausted, "request body is larger than \(self.configuration.maxHTTPBodySize) bytes"
            ), status: 413))
            return
        }
        let request = self.httpRequest(stream)
        stream.body = []  // the request's now, outside the connection's budget
        self.releaseReservation(of: stream)
        let work: @Sendable () async -> HTTPResponse
        switch self.httpService.handle(request) {
        case .response(let response):
            self.respond(stream, response)
            self.scheduleOutput()
            return
        case .pending(let pending):
            work = pending
        }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let streamID = stream.id
        stream.task = Task(executorPreference: self.taskExecutor) {
            let response = await work()
            loop.onLoop {
                guard let stream = handler.value.streams[streamID] else {
                    response.stream?.abandon()
                    return
                }
                handler.value.respond(stream, response)
                handler.value.scheduleOutput()
            }
        }
    }

    /// The request a stream carries, with the body received so far.
    func httpRequest(_ stream: ServerStream) -> HTTPRequest {
        HTTPRequest(
            method: stream.header(":method") ?? "GET",
            target: stream.header(":path") ?? "/",
            headers: stream.headers.filter { !$0.name.hasPrefix(":") }
                + [("host", stream.header(":authority") ?? "")],
            body: stream.body,
            peer: self.peerDescription
        )
    }

    func respond(_ stream: ServerStream, _ response: HTTPResponse) {
        guard !stream.finished, let session = self.session else {
            response.stream?.abandon()
            return
        }
        stream.httpFinished = true
        var headers: [(name: String, value: String)] = [(":status", String(response.status))]
        // Connection-specific headers are not allowed in HTTP/2 (RFC 9113 §8.2.2).
        headers += response.headers.filter { $0.name != "connection" && $0.name != "transfer-encoding" }
        if let body = response.stream {
            do {
                try session.submitResponse(streamID: stream.id, headers: headers, endStream: false)
            } catch {
                session.reset(stream.id, errorCode: HTTP2Session.ErrorCode.internalError)
                body.abandon()
                return
            }
            self.startBodyStream(body, on: stream)
            return
        }
        headers.append(("content-length", String(response.body.count)))
        // HEAD: the GET's headers, no content (RFC 9110 §9.3.2).
        let sendsBody = !response.body.isEmpty && stream.header(":method") != "HEAD"
        do {
            try session.submitResponse(streamID: stream.id, headers: headers, endStream: !sendsBody)
        } catch {
            session.reset(stream.id, errorCode: HTTP2Session.ErrorCode.internalError)
            return
        }
        guard sendsBody, let context = self.context else { return }
        session.send(context.channel.allocator.buffer(bytes: response.body), on: stream.id)
        session.finish(stream.id, trailers: nil)
    }
}

extension HTTP2ConnectionHandler {
    /// Sends each chunk the producer writes as DATA, waiting while the stream's buffer is full;
    /// ends the stream when the producer returns, and resets it (INTERNAL_ERROR) when the producer
    /// fails, so the client sees the body cut short instead of complete. Resetting the stream
    /// cancels the producer.
    private func startBodyStream(_ body: HTTPBodyStream, on stream: ServerStream) {
        guard let context = self.context else { return }
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        let streamID = stream.id
        stream.task = Task(executorPreference: self.taskExecutor) {
            let finished: Bool
            do {
                try await body.produce { bytes in
                    let promise = loop.makePromise(of: Void.self)
                    loop.onLoop { handler.value.sendChunk(bytes, on: streamID, promise: promise) }
                    try await promise.futureResult.get()
                }
                finished = true
            } catch {
                finished = false  // the client reset the stream (it is gone then), or the producer failed
            }
            loop.onLoop {
                guard handler.value.streams[streamID] != nil, let session = handler.value.session else { return }
                if finished {
                    session.finish(streamID, trailers: nil)
                } else {
                    session.reset(streamID, errorCode: HTTP2Session.ErrorCode.internalError)
                }
                handler.value.scheduleOutput()
            }
        }
    }

    private func sendChunk(_ bytes: [UInt8], on streamID: Int32, promise: EventLoopPromise<Void>) {
        guard let stream = self.streams[streamID], let session = self.session, let context = self.context else {
            promise.fail(CancellationError())
            return
        }
        session.send(context.channel.allocator.buffer(bytes: bytes), on: streamID)
        self.scheduleOutput()
        if session.bufferedBytes(on: streamID) < Self.streamHighWater {
            promise.succeed()
        } else {
            stream.writeWaiters.append(promise)
        }
    }
}
