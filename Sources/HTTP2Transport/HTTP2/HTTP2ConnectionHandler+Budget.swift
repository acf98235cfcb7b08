import ServiceErrors

/// The connection's request budget (STYLE §12: every byte held has an owner and a bound).
///
/// A stream may hold the bytes of a message (or REST body) only once that message has a share of
/// `maxBufferedBytesPerConnection`: it asks when the message's size is known (the gRPC length
/// prefix, the REST `content-length`), gets it at once if it fits (or if nothing else holds any,
/// so one message of any allowed size always moves), or waits in arrival order until handlers
/// take what others hold. Until then its stream-level credit is held back, so it holds at most
/// one stream window; at most `maxWaitingStreams` may wait, later ones are refused. Shares end
/// when the handler takes the message; messages queued for a streaming handler count with
/// their decompressed size. The connection window is credited at once, so a waiting stream
/// never blocks one that was granted (no deadlock: granted messages always complete).
extension HTTP2ConnectionHandler {
    static let maxWaitingStreams = 16

    /// Asks for a share of the budget for what `stream` is about to hold: granted, queued, or
    /// (the queue is full) the stream is refused.
    func reserve(_ size: Int, for stream: ServerStream) {
        guard stream.reservedBytes == 0, stream.wantedBytes == 0, !stream.finished else { return }
        if self.reservedBytes == 0 || self.reservedBytes + size <= self.configuration.maxBufferedBytesPerConnection {
            stream.reservedBytes = size
            self.reservedBytes += size
        } else if self.waitingForBudget.count < Self.maxWaitingStreams {
            stream.wantedBytes = size
            self.waitingForBudget.append(stream.id)
        } else {
            self.refuseForBudget(stream)
        }
    }

    /// Ends the share of the message that just left the stream's hands (dispatched, or moved to
    /// the handler's queue, where it counts as `queuedBytes`).
    func releaseReservation(of stream: ServerStream) {
        self.reservedBytes -= stream.reservedBytes
        stream.reservedBytes = 0
    }

    /// A finished or closed stream gives back everything it held or waited for.
    func releaseBudget(of stream: ServerStream) {
        self.releaseReservation(of: stream)
        self.reservedBytes -= stream.queuedBytes
        stream.queuedBytes = 0
        stream.queuedMessageCosts = []
        if stream.wantedBytes > 0 {
            stream.wantedBytes = 0
            self.waitingForBudget.removeAll { $0 == stream.id }
        }
    }

    /// A finished stream keeps nothing of its request; DATA it received is discarded, so its
    /// window reopens for it (the client may still be sending).
    func dropRequestBytes(_ stream: ServerStream) {
        stream.reader = LengthPrefixedMessageReader(maxMessageSize: self.configuration.maxReceiveMessageSize)
        stream.requestMessage = nil
        stream.body = []
        self.releaseBudget(of: stream)
        self.session?.consumeStream(stream.unconsumedBytes, on: stream.id)
        stream.unconsumedBytes = 0
    }

    /// Grants waiting streams their shares in arrival order while they fit.
    func grantWaitingStreams() {
        while let id = self.waitingForBudget.first {
            guard let stream = self.streams[id], stream.wantedBytes > 0 else {
                self.waitingForBudget.removeFirst()
                continue
            }
            guard self.reservedBytes == 0
                || self.reservedBytes + stream.wantedBytes <= self.configuration.maxBufferedBytesPerConnection
            else { return }
            self.waitingForBudget.removeFirst()
            stream.reservedBytes = stream.wantedBytes
            self.reservedBytes += stream.wantedBytes
            stream.wantedBytes = 0
            if stream.kind == .grpc { self.extractMessages(stream) }
            self.creditStream(stream)
        }
    }

    /// Reopens the stream's window for what it received, when that is covered: the stream is
    /// finished (its DATA is discarded), its current message or body has a share, or it holds
    /// too little to know a message's size yet; and a streaming handler's queue has room.
    func creditStream(_ stream: ServerStream) {
        guard stream.unconsumedBytes > 0 else { return }
        if !stream.finished {
            switch stream.kind {
            case .http:
                guard stream.reservedBytes > 0 else { return }
            case .grpc:
                let sizeKnown = stream.reader.nextMessageWireSize != nil
                guard stream.wantedBytes == 0, stream.reservedBytes > 0 || !sizeKnown else { return }
                if stream.input != nil && !self.mayQueue(stream) { return }
            }
        }
        self.session?.consumeStream(stream.unconsumedBytes, on: stream.id)
        stream.unconsumedBytes = 0
    }

    /// Decompressed bytes a streaming handler may have waiting in its queue (one message of any
    /// allowed size always fits when the queue is empty).
    static let streamQueueBytes = 64 * 1024

    /// Whether a streaming request may hand its handler another message now.
    func mayQueue(_ stream: ServerStream) -> Bool {
        stream.input == nil || stream.queuedMessageCosts.isEmpty || stream.queuedBytes < Self.streamQueueBytes
    }

    /// The waiting line is full: a request not yet handed to its handler is refused with
    /// REFUSED_STREAM (clients retry it safely, RFC 9113 §8.7); a streaming call already running
    /// ends RESOURCE_EXHAUSTED.
    private func refuseForBudget(_ stream: ServerStream) {
        switch stream.kind {
        case .http:
            self.session?.reset(stream.id, errorCode: HTTP2Session.ErrorCode.refusedStream)
            self.abandon(stream)
        case .grpc:
            if stream.grpc.handlerStarted {
                self.perform(stream.grpc.requestFailed(ServiceError(
                    .resourceExhausted, "this connection holds too many unfinished messages; send this one again later"
                )), on: stream)
            } else {
                self.session?.reset(stream.id, errorCode: HTTP2Session.ErrorCode.refusedStream)
                self.perform(stream.grpc.streamReset(), on: stream)
            }
        }
        self.releaseBudget(of: stream)
    }
}
