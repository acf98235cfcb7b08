import NIOCore
import NIOHTTP1

/// Decides from a connection's first bytes whether it speaks HTTP/2 with prior knowledge (h2c)
/// or HTTP/1.1, then installs the matching handlers and removes itself.
///
/// A connection earns its keep before it is trusted: the TLS handshake (the TLS handler sits in
/// front of this one) and the HTTP/2 preface or the first HTTP/1.1 request head must arrive by
/// `deadline`, which the HTTP/1.1 handler inherits for that first request.
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// RFC 9113 §3.4: every HTTP/2 connection starts with this preface.
    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    /// Bytes that only an HTTP/2 client sends first: a connection that starts with them and then
    /// breaks the preface meant to speak HTTP/2 and gets GOAWAY(PROTOCOL_ERROR) (RFC 9113 §3.4).
    static let http2Marker = Array("PRI * HTTP/2.0".utf8)

    private var buffered: ByteBuffer?
    private var decided = false
    private let deadline: NIODeadline
    private var timer: Scheduled<Void>?
    private let configureHTTP2: @Sendable (any Channel) -> EventLoopFuture<Void>
    private let configureHTTP1: @Sendable (any Channel, NIODeadline) -> EventLoopFuture<Void>

    init(
        deadline: NIODeadline,
        configureHTTP2: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>,
        configureHTTP1: @escaping @Sendable (any Channel, NIODeadline) -> EventLoopFuture<Void>
    ) {
        self.deadline = deadline
        self.configureHTTP2 = configureHTTP2
        self.configureHTTP1 = configureHTTP1
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        self.timer = context.eventLoop.scheduleTask(deadline: self.deadline) {
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.decided else { return }
        var incoming = self.unwrapInboundIn(data)
        if var buffered = self.buffered {
            buffered.writeBuffer(&incoming)
            self.buffered = buffered
        } else {
            self.buffered = incoming
        }
        guard let buffered = self.buffered else { return }
        switch Self.classify(buffered.readableBytesView) {
        case .needMore:
            return
        case .http2:
            self.install(self.configureHTTP2, context: context)
        case .http1:
            let deadline = self.deadline
            let configure = self.configureHTTP1
            self.install({ channel in configure(channel, deadline) }, context: context)
        case .brokenHTTP2Preface:
            self.decided = true
            self.buffered = nil
            let channel = context.channel
            context.writeAndFlush(NIOAny(Self.goAwayProtocolError(context.channel.allocator)))
                .whenComplete { _ in channel.close(promise: nil) }
        }
    }

    enum Verdict: Equatable {
        case needMore
        case http2
        case http1
        case brokenHTTP2Preface
    }

    /// What the first bytes of a connection say it speaks.
    static func classify(_ bytes: ByteBufferView) -> Verdict {
        let prefix = bytes.prefix(Self.http2Preface.count)
        if prefix.elementsEqual(Self.http2Preface.prefix(prefix.count)) {
            return prefix.count < Self.http2Preface.count ? .needMore : .http2
        }
        let marker = bytes.prefix(Self.http2Marker.count)
        guard marker.count == Self.http2Marker.count, marker.elementsEqual(Self.http2Marker) else { return .http1 }
        return .brokenHTTP2Preface
    }

    /// GOAWAY (RFC 9113 §6.8) with last stream 0 and PROTOCOL_ERROR, the only frame sent before
    /// closing a connection whose preface was wrong.
    static func goAwayProtocolError(_ allocator: ByteBufferAllocator) -> ByteBuffer {
        var frame = allocator.buffer(capacity: 17)
        frame.writeBytes([0, 0, 8, 7, 0])  // length 8, type GOAWAY, no flags
        frame.writeInteger(UInt32(0))  // stream 0
        frame.writeInteger(UInt32(0))  // last stream ID
        frame.writeInteger(UInt32(1))  // PROTOCOL_ERROR
        return frame
    }

    private func install(
        _ configure: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>,
        context: ChannelHandlerContext
    ) {
        self.decided = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        configure(context.channel).whenComplete { result in
            let (sniffer, context) = loopBound.value
            switch result {
            case .success:
                // The new handlers sit after this one: hand them what was read, then step aside.
                let bytes = sniffer.buffered
                sniffer.buffered = nil
                if let bytes {
                    context.fireChannelRead(NIOAny(bytes))
                    context.fireChannelReadComplete()
                }
                context.pipeline.syncOperations.removeHandler(sniffer, promise: nil)
            case .failure:
                context.close(promise: nil)
            }
        }
    }
}
