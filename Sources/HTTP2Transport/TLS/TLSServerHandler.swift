private import COpenSSL
import NIOCore

/// Terminates TLS on a connection with OpenSSL over memory BIOs: ciphertext from the socket goes
/// into the read BIO, plaintext comes out of `SSL_read`; plaintext writes go through `SSL_write`
/// and the write BIO's ciphertext goes to the socket. Runs on the connection's event loop.
final class TLSServerHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let context: TLSContext
    private var ssl: OpaquePointer?
    private var readBIO: OpaquePointer?
    private var writeBIO: OpaquePointer?
    private var handshakeDone = false
    private var closed = false
    /// Plaintext written before the handshake finished.
    private var pendingWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []

    init(context: TLSContext) {
        self.context = context
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let ssl = SSL_new(self.context.raw), let readBIO = BIO_new(BIO_s_mem()),
            let writeBIO = BIO_new(BIO_s_mem())
        else {
            context.close(promise: nil)
            return
        }
        SSL_set_bio(ssl, readBIO, writeBIO)  // the SSL now owns both BIOs
        SSL_set_accept_state(ssl)
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        SSL_free(self.ssl)
        self.ssl = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let ssl = self.ssl, !self.closed else { return }
        let buffer = self.unwrapInboundIn(data)
        let written = buffer.withUnsafeReadableBytes { bytes in
            BIO_write(self.readBIO, bytes.baseAddress, Int32(bytes.count))
        }
        guard written == buffer.readableBytes else {
            self.fail(context)
            return
        }
        if !self.handshakeDone {
            let result = SSL_do_handshake(ssl)
            self.flushCiphertext(context)
            guard result == 1 else {
                let error = SSL_get_error(ssl, result)
                if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE { self.fail(context) }
                return
            }
            self.handshakeDone = true
            let pending = self.pendingWrites
            self.pendingWrites = []
            for (buffer, promise) in pending { self.encrypt(buffer, promise: promise, context: context) }
            self.flushCiphertext(context)
        }
        self.readPlaintext(context)
    }

    private func readPlaintext(_ context: ChannelHandlerContext) {
        guard let ssl = self.ssl else { return }
        var plaintext = context.channel.allocator.buffer(capacity: 16 * 1024)
        while true {
            plaintext.reserveCapacity(minimumWritableBytes: 16 * 1024)
            let count = plaintext.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { bytes in
                Int(max(0, SSL_read(ssl, bytes.baseAddress, Int32(bytes.count))))
            }
            if count > 0 { continue }
            let error = SSL_get_error(ssl, 0)
            if error == SSL_ERROR_ZERO_RETURN {
                self.closed = true
                if plaintext.readableBytes > 0 { context.fireChannelRead(self.wrapInboundOut(plaintext)) }
                context.close(promise: nil)
                return
            }
            if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE && error != SSL_ERROR_NONE {
                self.fail(context)
                return
            }
            break
        }
        if plaintext.readableBytes > 0 {
            context.fireChannelRead(self.wrapInboundOut(plaintext))
        }
        self.flushCiphertext(context)  // renegotiation or key updates may want to write
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = self.unwrapOutboundIn(data)
        guard self.handshakeDone else {
            self.pendingWrites.append((buffer, promise))
            return
        }
        self.encrypt(buffer, promise: promise, context: context)
    }

    func flush(context: ChannelHandlerContext) {
        self.flushCiphertext(context)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if let ssl = self.ssl, self.handshakeDone, !self.closed {
            self.closed = true
            SSL_shutdown(ssl)  // close_notify; we do not wait for the peer's
            self.flushCiphertext(context)
        }
        context.close(mode: mode, promise: promise)
    }

    private func encrypt(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        guard let ssl = self.ssl else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        let result = buffer.withUnsafeReadableBytes { bytes -> Int32 in
            bytes.isEmpty ? 0 : SSL_write(ssl, bytes.baseAddress, Int32(bytes.count))
        }
        guard buffer.readableBytes == 0 || result == Int32(buffer.readableBytes) else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            self.fail(context)
            return
        }
        self.writeCiphertext(context, promise: promise)
    }

    /// Moves what OpenSSL produced from the write BIO to the socket.
    private func writeCiphertext(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let pending = Int(cssl_bio_pending(self.writeBIO))
        guard pending > 0 else {
            // Nothing to send for this write, but its promise must still complete after the
            // writes before it reach the socket (a close waits on it): an empty write keeps order.
            if let promise { context.write(self.wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise) }
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { bytes in
            Int(max(0, BIO_read(self.writeBIO, bytes.baseAddress, Int32(pending))))
        }
        context.write(self.wrapOutboundOut(buffer), promise: promise)
    }

    private func flushCiphertext(_ context: ChannelHandlerContext) {
        self.writeCiphertext(context, promise: nil)
        context.flush()
    }

    private func fail(_ context: ChannelHandlerContext) {
        self.closed = true
        ERR_clear_error()
        for (_, promise) in self.pendingWrites { promise?.fail(ChannelError.ioOnClosedChannel) }
        self.pendingWrites = []
        context.close(promise: nil)
    }
}
