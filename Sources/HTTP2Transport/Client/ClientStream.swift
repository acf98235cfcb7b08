import NIOCore
import RPCCore
import ServiceErrors

/// One gRPC call's state inside the client connection. Lives on the connection's event loop.
final class ClientStream {
    let responses: AsyncThrowingStream<[UInt8], any Error>.Continuation
    let responseMetadata: ResponseMetadata?
    var reader: LengthPrefixedMessageReader
    var responseHeadersReceived = false
    var responseEncoding: String?
    var completed = false
    var deadlineTimer: Scheduled<Void>?
    var writeWaiters: [EventLoopPromise<Void>] = []

    init(
        responses: AsyncThrowingStream<[UInt8], any Error>.Continuation,
        responseMetadata: ResponseMetadata?,
        reader: LengthPrefixedMessageReader
    ) {
        self.responses = responses
        self.responseMetadata = responseMetadata
        self.reader = reader
    }

    /// Ends the call: OK finishes the response stream, anything else fails it with the status.
    func complete(_ error: ServiceError?) {
        guard !self.completed else { return }
        self.completed = true
        self.deadlineTimer?.cancel()
        if let error {
            self.responses.finish(throwing: error)
        } else {
            self.responses.finish()
        }
        for waiter in self.writeWaiters { waiter.fail(HTTP2ClientConnectionHandler.CallEnded()) }
        self.writeWaiters = []
    }
}
