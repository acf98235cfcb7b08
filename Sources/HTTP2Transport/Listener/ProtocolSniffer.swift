import NIOCore
import NIOHTTP1

/// Decides from a connection's first bytes whether it speaks HTTP/2 with prior knowledge (h2c)
/// or HTTP/1.1, then installs the matching handlers and removes itself.
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// RFC 9113 §3.4: every HTTP/2 connection starts with this preface.
    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private var buffered: ByteBuffer?
    private let configureHTTP2: @Sendable (any Channel) -> EventLoopFuture<Void>
    private let configureHTTP1: @Sendable (any Channel) -> EventLoopFuture<Void>

    init(
        configureHTTP2: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>,
        configureHTTP1: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) {
        self.configureHTTP2 = configureHTTP2
        self.configureHTTP1 = configureHTTP1
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        if var buffered = self.buffered {
            buffered.writeBuffer(&incoming)
            self.buffered = buffered
        } else {
            self.buffered = incoming
        }
        guard let buffered = self.buffered else { return }
        let prefix = buffered.readableBytesView.prefix(Self.http2Preface.count)
        let isHTTP2 = prefix.elementsEqual(Self.http2Preface.prefix(prefix.count))
        if isHTTP2 && prefix.count < Self.http2Preface.count { return }  // wait for the whole preface
        let configure = isHTTP2 ? self.configureHTTP2 : self.configureHTTP1
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
