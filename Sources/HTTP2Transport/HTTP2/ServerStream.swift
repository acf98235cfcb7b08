import NIOCore
import RPCCore

/// What the connection knows about one open stream. Lives on the connection's event loop.
final class ServerStream {
    enum Kind {
        case grpc
        case http
    }

    let id: Int32
    let kind: Kind
    /// When the request's headers arrived, for the call's duration metric.
    let startedAt = ContinuousClock.now
    var headers: [(name: String, value: String)]

    // gRPC
    var route: RPCRoute?
    var callContext: CallContext?
    var reader: LengthPrefixedMessageReader
    /// The request's `grpc-encoding`; nil means identity.
    var requestEncoding: String?
    var acceptsGzip = false
    /// The request message of a call whose client does not stream (a second one is an error).
    var requestMessage: [UInt8]?
    var input: AsyncThrowingStream<RPCMessageSource.Delivery, any Error>.Continuation?
    var task: Task<Void, Never>?
    var responseCompressed = false
    /// The call's rules (gRPC streams).
    var grpc = GRPCServerStreamState()
    /// A plain HTTP stream's response went out (or the stream is gone).
    var httpFinished = false
    /// Nothing more is accepted or sent for the request: its DATA is discarded.
    var finished: Bool { self.kind == .grpc ? self.grpc.isClosed : self.httpFinished }
    var deadlineTimer: Scheduled<Void>?
    /// Senders waiting for the outbound buffer to drain (HTTP/2 flow control backpressure).
    var writeWaiters: [EventLoopPromise<Void>] = []

    /// DATA bytes received and not yet handed back to flow control; returned when the handler
    /// takes a message (streaming requests), or while the connection holds less than its budget
    /// (everything else).
    var unconsumedBytes = 0
    /// Request bytes this stream holds (reader, request message, queued messages, body), as
    /// counted in the connection's budget.
    var heldBytes = 0
    /// Streaming requests: what each message handed to the handler and not yet taken counts
    /// (decompressed size, at least `queuedMessageOverhead`), oldest first, and their sum.
    var queuedMessageCosts: [Int] = []
    var queuedBytes = 0
    static let queuedMessageOverhead = 64

    // Plain HTTP (REST over h2)
    var body: [UInt8] = []
    var bodyTooLarge = false

    init(id: Int32, kind: Kind, headers: [(name: String, value: String)], reader: LengthPrefixedMessageReader) {
        self.id = id
        self.kind = kind
        self.headers = headers
        self.reader = reader
    }

    func header(_ name: String) -> String? {
        self.headers.first { $0.name == name }?.value
    }
}
