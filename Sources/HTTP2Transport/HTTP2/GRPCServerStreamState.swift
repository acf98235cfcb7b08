import ServiceErrors

/// The rules of one gRPC call on a server stream (gRPC over HTTP/2), as a value: each event goes
/// in, what to do next comes out, and `HTTP2ConnectionHandler` does it. No I/O here; the bytes a
/// call holds (reader, queued messages) stay with the stream, this decides when they matter.
///
/// A single-message request (unary, server streaming) is collected whole before its handler
/// starts; a streaming request's handler starts with the headers and is handed messages as they
/// arrive. Every path ends in `.closed`, after which every event is answered with nothing.
struct GRPCServerStreamState {
    enum Phase: Equatable {
        /// Before the request's header block was accepted.
        case idle
        /// The request is arriving. `message`: a single-message request has its message.
        case receiving(message: Bool)
        /// A streaming request ended while whole messages still wait for room in the handler's
        /// queue; the handler's input ends once they are handed over.
        case draining
        /// The client's side is complete; the handler runs.
        case handling
        /// The status went out or the stream is gone.
        case closed
    }

    enum Action {
        /// Start the route's handler.
        case startHandler
        /// End the streaming handler's input: no more messages.
        case finishInput
        /// Send the response headers (before the first message).
        case sendHeaders
        /// Send the message the handler produced.
        case sendMessage
        /// End the call with this status (nil: OK): trailers, or Trailers-Only without headers.
        case sendStatus(ServiceError?)
        /// Refuse a message the handler tried to send after the call ended.
        case refuseMessage
        /// Cancel the handler's task.
        case cancelHandler
        /// Let go of everything the request holds (buffers, the input, timers, waiting senders).
        case dropRequest
    }

    private(set) var phase = Phase.idle
    /// Whether the response headers went out (then the status goes in trailers).
    private(set) var headersSent = false
    /// Whether the request is a stream of messages (client or bidirectional streaming).
    private(set) var streamingRequest = false
    private(set) var handlerStarted = false

    var isClosed: Bool { self.phase == .closed }

    /// The header block was validated and the interceptors ran; `refusal` is why they refused.
    mutating func headersReceived(streamingRequest: Bool, refusal: ServiceError?) -> [Action] {
        guard self.phase == .idle else { return [] }
        if let refusal { return self.close(with: refusal) }
        self.streamingRequest = streamingRequest
        self.phase = .receiving(message: false)
        if streamingRequest {
            self.handlerStarted = true
            return [.startHandler]
        }
        return []
    }

    /// A whole message arrived (a streaming request's goes to the handler's queue).
    mutating func messageReceived(methodName: String) -> [Action] {
        switch self.phase {
        case .receiving(message: false):
            if !self.streamingRequest { self.phase = .receiving(message: true) }
            return []
        case .receiving(message: true):
            return self.close(with: ServiceError(.unimplemented, "\(methodName) takes one request message"))
        case .idle, .draining, .handling, .closed:
            return []  // nothing can arrive before the headers or after END_STREAM; a closed call discards
        }
    }

    /// The client ended its side (END_STREAM). `wholeMessagesWaiting`: a streaming request still
    /// has messages waiting for room in the handler's queue; `partialMessage`: bytes that do not
    /// form a whole message.
    mutating func requestEnded(methodName: String, wholeMessagesWaiting: Bool, partialMessage: Bool) -> [Action] {
        guard case .receiving(let message) = self.phase else { return [] }
        if partialMessage && !wholeMessagesWaiting {
            return self.close(with: ServiceError(.internal, "request ended inside a message"))
        }
        if self.streamingRequest {
            if wholeMessagesWaiting {
                self.phase = .draining
                return []
            }
            self.phase = .handling
            return [.finishInput]
        }
        guard message else {
            return self.close(with: ServiceError(.unimplemented, "\(methodName) needs one request message, got none"))
        }
        self.phase = .handling
        self.handlerStarted = true
        return [.startHandler]
    }

    /// A draining request handed its last whole message to the handler. `partialMessage`: bytes
    /// that never formed a whole message remain.
    mutating func inputDrained(partialMessage: Bool) -> [Action] {
        guard self.phase == .draining else { return [] }
        if partialMessage { return self.close(with: ServiceError(.internal, "request ended inside a message")) }
        self.phase = .handling
        return [.finishInput]
    }

    /// The handler produced a response message.
    mutating func handlerSent() -> [Action] {
        switch self.phase {
        case .receiving, .draining, .handling:
            guard self.handlerStarted else { return [.refuseMessage] }
            if self.headersSent { return [.sendMessage] }
            self.headersSent = true
            return [.sendHeaders, .sendMessage]
        case .idle, .closed:
            return [.refuseMessage]
        }
    }

    /// The handler returned: with a unary reply (`reply`), or failed with `error`.
    mutating func handlerReturned(reply: Bool, error: ServiceError?) -> [Action] {
        switch self.phase {
        case .receiving, .draining, .handling:
            guard self.handlerStarted else { return [] }
            if let error { return self.close(with: error, cancel: false) }
            // Every unary call ends here: one array for all its actions.
            var actions: [Action] = []
            actions.reserveCapacity(4)
            if reply {
                if !self.headersSent { actions.append(.sendHeaders) }
                self.headersSent = true
                actions.append(.sendMessage)
            }
            self.close(with: nil, cancel: false, into: &actions)
            return actions
        case .idle, .closed:
            return []
        }
    }

    /// The request's deadline (`grpc-timeout`) passed.
    mutating func deadlineExpired() -> [Action] {
        guard self.phase != .closed else { return [] }
        return self.close(with: ServiceError(.deadlineExceeded, "the deadline passed"))
    }

    /// The request could not be read (a malformed or oversized message, bad compression).
    mutating func requestFailed(_ error: ServiceError) -> [Action] {
        guard self.phase != .closed else { return [] }
        return self.close(with: error)
    }

    /// The client reset the stream, or the connection went away: no status can be sent.
    mutating func streamReset() -> [Action] {
        guard self.phase != .closed else { return [] }
        self.phase = .closed
        return self.handlerStarted ? [.cancelHandler, .dropRequest] : [.dropRequest]
    }

    private mutating func close(with status: ServiceError?, cancel: Bool = true) -> [Action] {
        var actions: [Action] = []
        self.close(with: status, cancel: cancel, into: &actions)
        return actions
    }

    /// Appends the closing actions: the handler cancelled (if it runs and `cancel`), the status
    /// sent, the request dropped.
    private mutating func close(with status: ServiceError?, cancel: Bool, into actions: inout [Action]) {
        let running = self.handlerStarted && cancel
        self.phase = .closed
        actions.reserveCapacity(actions.count + (running ? 3 : 2))
        if running { actions.append(.cancelHandler) }
        actions.append(.sendStatus(status))
        actions.append(.dropRequest)
    }
}

extension GRPCServerStreamState.Action: Equatable {
    /// Statuses compare by code and message (a `ServiceError`'s cause is for logs only).
    static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.sendStatus(let left), .sendStatus(let right)):
            left?.code == right?.code && left?.message == right?.message
        case (.startHandler, .startHandler), (.finishInput, .finishInput), (.sendHeaders, .sendHeaders),
            (.sendMessage, .sendMessage), (.refuseMessage, .refuseMessage), (.cancelHandler, .cancelHandler),
            (.dropRequest, .dropRequest):
            true
        case (.startHandler, _), (.finishInput, _), (.sendHeaders, _), (.sendMessage, _), (.sendStatus, _),
            (.refuseMessage, _), (.cancelHandler, _), (.dropRequest, _):
            false
        }
    }
}
