import NIOCore

/// Splits a gRPC request body into messages (gRPC over HTTP/2: Length-Prefixed-Message =
/// Compressed-Flag (1 byte) Message-Length (4 bytes, big-endian) Message), joining messages split
/// across DATA frames.
///
/// The length prefix is checked against `maxMessageSize` as soon as it arrives, so a prefix
/// claiming gigabytes is refused before anything is buffered.
struct LengthPrefixedMessageReader {
    struct Message {
        var compressed: Bool
        var bytes: [UInt8]
    }

    enum Failure: Error {
        case tooLarge(Int)
        case invalidFlag(UInt8)
    }

    /// Received bytes not yet returned as messages; nil when there are none, so a reader holds
    /// no memory between messages (and never pins the connection's receive buffer).
    private var buffer: ByteBuffer?
    /// Whether `buffer` is a slice of someone else's storage (adopted by `append`).
    private var borrowed = false
    private let maxMessageSize: Int

    init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
    }

    /// Adds received bytes. They may be a slice of a larger receive buffer: call `next` until
    /// nil, then `retainPartial` before the buffer is reused.
    mutating func append(_ bytes: ByteBuffer) {
        guard var buffer = self.buffer else {
            self.buffer = bytes
            self.borrowed = true
            return
        }
        self.buffer = nil  // unique while appending
        // Messages already read are dropped first, or the storage grows with everything the
        // stream ever carried while it never quite empties (a message split across frames).
        buffer.discardReadBytes()
        var bytes = bytes
        buffer.writeBuffer(&bytes)
        self.buffer = buffer
    }

    /// The next complete message, or nil until more bytes arrive.
    mutating func next() throws(Failure) -> Message? {
        guard var buffer = self.buffer,
            let flag = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)
        else { return nil }
        guard flag <= 1 else { throw .invalidFlag(flag) }
        guard Int(length) <= self.maxMessageSize else { throw .tooLarge(Int(length)) }
        guard buffer.readableBytes >= 5 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        let bytes = buffer.readBytes(length: Int(length)) ?? []
        self.buffer = buffer.readableBytes > 0 ? buffer : nil
        return Message(compressed: flag == 1, bytes: bytes)
    }

    /// Copies a partial message out of the receive buffer it was sliced from, so that buffer
    /// can be reused while the rest of the message is on its way.
    mutating func retainPartial() {
        guard self.borrowed, let buffer = self.buffer else { return }
        self.buffer = ByteBuffer(bytes: buffer.readableBytesView)
        self.borrowed = false
    }

    /// Bytes received that do not yet form a whole message (non-zero at end of stream is an error).
    var partialBytes: Int { self.buffer?.readableBytes ?? 0 }

    /// The wire size (prefix included) of the message the reader is in the middle of, once its
    /// 5-byte prefix has arrived; nil before that or when the reader is empty.
    var nextMessageWireSize: Int? {
        guard let buffer = self.buffer, let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self) else {
            return nil
        }
        return 5 + Int(length)
    }
}
