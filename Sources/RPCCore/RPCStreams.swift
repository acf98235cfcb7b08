import ProtoWire
import ServiceErrors

/// Where a handler (or a client) sends serialized messages one at a time.
///
/// `send` suspends while the peer is not reading (HTTP/2 flow control), so a slow reader never
/// makes the sender buffer without bound.
package struct RPCMessageSink: Sendable {
    private let sendBytes: @Sendable ([UInt8]) async throws -> Void

    package init(_ send: @escaping @Sendable ([UInt8]) async throws -> Void) {
        self.sendBytes = send
    }

    package func send(_ bytes: [UInt8]) async throws {
        try await self.sendBytes(bytes)
    }
}

/// A stream of serialized messages arriving from the peer.
///
/// When built by a transport, taking each message tells the transport it was consumed, so flow
/// control admits more only as fast as the handler reads.
package struct RPCMessageSource: AsyncSequence, Sendable {
    package typealias Element = [UInt8]

    /// A message and the bytes it took on the wire.
    package struct Delivery: Sendable {
        package var bytes: [UInt8]
        package var size: Int

        package init(bytes: [UInt8], size: Int) {
            self.bytes = bytes
            self.size = size
        }
    }

    private let stream: AsyncThrowingStream<Delivery, any Error>
    private let consumed: @Sendable (Int) -> Void

    package init(_ stream: AsyncThrowingStream<Delivery, any Error>, consumed: @escaping @Sendable (Int) -> Void) {
        self.stream = stream
        self.consumed = consumed
    }

    /// A source that yields `messages` and ends.
    package init(_ messages: [[UInt8]]) {
        self.stream = AsyncThrowingStream { continuation in
            for message in messages { continuation.yield(Delivery(bytes: message, size: message.count)) }
            continuation.finish()
        }
        self.consumed = { _ in }
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Delivery, any Error>.AsyncIterator
        let consumed: @Sendable (Int) -> Void

        package mutating func next() async throws -> [UInt8]? {
            guard let delivery = try await self.base.next() else { return nil }
            self.consumed(delivery.size)
            return delivery.bytes
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.stream.makeAsyncIterator(), consumed: self.consumed)
    }
}

/// Typed view of a sink: a handler writes response messages to it.
package struct RPCResponseWriter<Message: ProtoMessage>: Sendable {
    private let sink: RPCMessageSink

    package init(_ sink: RPCMessageSink) {
        self.sink = sink
    }

    package func send(_ message: Message) async throws {
        try await self.sink.send(message.serializedBytes())
    }
}

/// Typed view of a source: decodes each message as it arrives.
package struct RPCRequestStream<Message: ProtoMessage>: AsyncSequence, Sendable {
    package typealias Element = Message
    private let source: RPCMessageSource

    package init(_ source: RPCMessageSource) {
        self.source = source
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        var base: RPCMessageSource.AsyncIterator

        package mutating func next() async throws -> Message? {
            guard let bytes = try await self.base.next() else { return nil }
            return try Message(decodingRequest: bytes)
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.source.makeAsyncIterator())
    }
}

extension ProtoMessage {
    /// Decodes a request; a malformed one is the client's fault (`invalidArgument`).
    package init(decodingRequest bytes: [UInt8]) throws(ServiceError) {
        do {
            try self.init(serializedBytes: bytes)
        } catch {
            throw ServiceError(.invalidArgument, "malformed \(Self.protoMessageName): \(error)", cause: error)
        }
    }

    /// Decodes a reply; a malformed one means the server is broken (`internal`).
    package init(decodingReply bytes: [UInt8]) throws(ServiceError) {
        do {
            try self.init(serializedBytes: bytes)
        } catch {
            throw ServiceError(.internal, "malformed \(Self.protoMessageName) in reply: \(error)", cause: error)
        }
    }
}

/// Typed view of a sink on the client side: the caller writes request messages to it.
package struct RPCRequestWriter<Message: ProtoMessage>: Sendable {
    private let sink: RPCMessageSink

    package init(_ sink: RPCMessageSink) {
        self.sink = sink
    }

    package func send(_ message: Message) async throws {
        try await self.sink.send(message.serializedBytes())
    }
}
