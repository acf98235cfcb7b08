import NIOCore
import RPCCore

/// What the connection knows about one open stream. Lives on the connection's event loop.
final class ServerStream {
    enum Kind {
        case grpc
        case http
    }

    /// How a gRPC-kind stream speaks: gRPC, or gRPC-Web or Connect for calls whose client streams
    /// (they need a full-duplex stream, so they take this path rather than the HTTP service's);
    /// those two send their status in the body instead of trailers.
    enum Dialect: String {
        case grpc
        case grpcWeb = "grpc-web"
        case connect
    }

    let id: Int32
    let kind: Kind
    let dialect: Dialect
    /// When the request's headers arrived, for the call's duration metric.
    let startedAt = ContinuousClock.now
    var headers: [(name: String, value: String)]

    // gRPC
    var route: RPCRoute?
    var callContext: CallContext?
    var reader: LengthPrefixedMessageReader
    /// The request's `grpc-encoding` (Connect: `connect-content-encoding`); nil means identity.
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

    /// DATA bytes received whose stream-level flow-control credit is held back (the connection's
    /// window is credited at once): until the message or body they belong to has a share of the
    /// connection's budget, or the handler's queue has room again.
    var unconsumedBytes = 0
    /// The share of the connection's budget granted to the message (or REST body) the stream is
    /// receiving, or holding for dispatch; 0 when none.
    var reservedBytes = 0
    /// What the stream asked for and waits to be granted (it is in the connection's queue).
    var wantedBytes = 0
    /// Streaming requests: what each message handed to the handler and not yet taken counts
    /// (decompressed size, at least `queuedMessageOverhead`), oldest first, and their sum.
    var queuedMessageCosts: [Int] = []
    var queuedBytes = 0
    static let queuedMessageOverhead = 64

    // Plain HTTP (REST over h2)
    var body: [UInt8] = []
    var bodyTooLarge = false

    init(
        id: Int32,
        kind: Kind,
        dialect: Dialect = .grpc,
        headers: [(name: String, value: String)],
        reader: LengthPrefixedMessageReader
    ) {
        self.id = id
        self.kind = kind
        self.dialect = dialect
        self.headers = headers
        self.reader = reader
    }

    func header(_ name: String) -> String? {
        self.headers.first { $0.name == name }?.value
    }
}
