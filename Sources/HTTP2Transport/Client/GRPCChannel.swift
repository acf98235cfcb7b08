import NIOCore
import NIOPosix
import RPCCore
import ServiceErrors
import NIOConcurrencyHelpers

/// A gRPC client channel over our HTTP/2 client: one connection, reused by every call and
/// re-established when it closes. What Swift services, the gateway's remote mode and tests use.
package final class GRPCChannel: RPCChannel {
    private let host: String
    private let port: Int
    private let group: any EventLoopGroup
    private let maxMessageSize: Int
    private let connection = NIOLockedValueBox<EventLoopFuture<Connection>?>(nil)

    private struct Connection: Sendable {
        var channel: any Channel
        var handler: NIOLoopBound<HTTP2ClientConnectionHandler>
    }

    package init(host: String, port: Int, group: any EventLoopGroup, maxMessageSize: Int = 4 << 20) {
        self.host = host
        self.port = port
        self.group = group
        self.maxMessageSize = maxMessageSize
    }

    /// Closes the connection; calls in flight fail with UNAVAILABLE.
    package func close() async {
        let current = self.connection.withLockedValue { connection in
            defer { connection = nil }
            return connection
        }
        if let channel = try? await current?.get().channel {
            try? await channel.close()
        }
    }

    private func connected() async throws -> Connection {
        let future = self.connection.withLockedValue { current -> EventLoopFuture<Connection> in
            if let current { return current }
            let future = self.connect()
            current = future
            return future
        }
        do {
            let connection = try await future.get()
            if connection.channel.isActive { return connection }
        } catch {
            self.forget(future)
            throw ServiceError(.unavailable, "cannot connect to \(self.host):\(self.port): \(error)", cause: error)
        }
        self.forget(future)
        return try await self.connected()
    }

    private func forget(_ future: EventLoopFuture<Connection>) {
        self.connection.withLockedValue { current in
            if current === future { current = nil }
        }
    }

    private func connect() -> EventLoopFuture<Connection> {
        let authority = "\(self.host):\(self.port)"
        let maxMessageSize = self.maxMessageSize
        return ClientBootstrap(group: self.group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: self.host, port: self.port)
            .flatMapThrowing { channel in
                let handler = HTTP2ClientConnectionHandler(authority: authority, maxMessageSize: maxMessageSize)
                try channel.pipeline.syncOperations.addHandler(handler)
                return Connection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
            }
    }

    // MARK: Calls

    /// One call in flight: send requests, then read responses until the status.
    private struct Call: Sendable {
        var connection: Connection
        var streamID: Int32
        var responses: AsyncThrowingStream<[UInt8], any Error>
        var compress: Bool

        func send(_ message: [UInt8]) async throws {
            let loop = self.connection.channel.eventLoop
            let promise = loop.makePromise(of: Void.self)
            let handler = self.connection.handler
            let streamID = self.streamID
            let compress = self.compress
            loop.execute { handler.value.send(message, compressed: compress, on: streamID, promise: promise) }
            do {
                try await promise.futureResult.get()
            } catch is HTTP2ClientConnectionHandler.CallEnded {
                return  // the response stream carries the call's status
            }
        }

        func finishSending() {
            let handler = self.connection.handler
            let streamID = self.streamID
            self.connection.channel.eventLoop.execute { handler.value.finishSending(streamID) }
        }

        func cancel() {
            let handler = self.connection.handler
            let streamID = self.streamID
            self.connection.channel.eventLoop.execute {
                handler.value.cancel(streamID, with: ServiceError(.cancelled, "the call was cancelled"))
            }
        }
    }

    private func start(_ method: RPCMethod, options: CallOptions) async throws -> Call {
        let connection = try await self.connected()
        let (responses, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let handler = connection.handler
        let streamID = try await connection.channel.eventLoop.submit {
            try handler.value.open(method, options: options, responses: continuation)
        }.get()
        return Call(connection: connection, streamID: streamID, responses: responses, compress: options.compressRequests)
    }

    /// Runs `body` for a started call; cancelling the task resets the stream.
    private func withCall<Result: Sendable>(
        _ method: RPCMethod,
        options: CallOptions,
        _ body: (Call) async throws -> Result
    ) async throws -> Result {
        let call = try await self.start(method, options: options)
        do {
            let result = try await withTaskCancellationHandler {
                try await body(call)
            } onCancel: {
                call.cancel()
            }
            // A cancelled task sees its response stream end early rather than fail.
            try Task.checkCancellation()
            return result
        } catch let error as ServiceError {
            if Task.isCancelled { throw ServiceError(.cancelled, "the call was cancelled") }
            throw error
        } catch is CancellationError {
            call.cancel()
            throw ServiceError(.cancelled, "the call was cancelled")
        } catch {
            call.cancel()
            throw ServiceError(.internal, "\(error)", cause: error)
        }
    }

    private static func single(_ responses: AsyncThrowingStream<[UInt8], any Error>, method: RPCMethod) async throws
        -> [UInt8]
    {
        var reply: [UInt8]?
        for try await message in responses {
            guard reply == nil else { throw ServiceError(.internal, "\(method.name) answered more than one message") }
            reply = message
        }
        guard let reply else { throw ServiceError(.internal, "\(method.name) answered no message") }
        return reply
    }

    package func unary(_ method: RPCMethod, request: [UInt8], options: CallOptions) async throws -> [UInt8] {
        try await self.withCall(method, options: options) { call in
            try await call.send(request)
            call.finishSending()
            return try await Self.single(call.responses, method: method)
        }
    }

    package func serverStreaming(
        _ method: RPCMethod,
        request: [UInt8],
        options: CallOptions,
        onResponse: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        try await self.withCall(method, options: options) { call in
            try await call.send(request)
            call.finishSending()
            for try await message in call.responses {
                try await onResponse(message)
            }
        }
    }

    package func clientStreaming(
        _ method: RPCMethod,
        options: CallOptions,
        requests: @escaping RPCRequestProducer
    ) async throws -> [UInt8] {
        try await self.withCall(method, options: options) { call in
            try await requests(RPCMessageSink { try await call.send($0) })
            call.finishSending()
            return try await Self.single(call.responses, method: method)
        }
    }

    package func bidirectionalStreaming(
        _ method: RPCMethod,
        options: CallOptions,
        requests: @escaping RPCRequestProducer,
        onResponse: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        try await self.withCall(method, options: options) { call in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await requests(RPCMessageSink { try await call.send($0) })
                        call.finishSending()
                    } catch {
                        call.cancel()  // the response loop below then ends with CANCELLED
                        throw error
                    }
                }
                for try await message in call.responses {
                    try await onResponse(message)
                }
                // The server ended the call; a producer still sending has nothing left to do.
                group.cancelAll()
                try? await group.waitForAll()
            }
        }
    }
}
