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

    private var buffer: ByteBuffer
    private let maxMessageSize: Int

    init(maxMessageSize: Int, allocator: ByteBufferAllocator) {
        self.maxMessageSize = maxMessageSize
        self.buffer = allocator.buffer(capacity: 0)
    }

    mutating func append(_ bytes: ByteBuffer) {
        var bytes = bytes
        if self.buffer.readableBytes == 0 {
            self.buffer = bytes
        } else {
            self.buffer.writeBuffer(&bytes)
        }
    }

    /// The next complete message, or nil until more bytes arrive.
    mutating func next() throws(Failure) -> Message? {
        guard let flag = self.buffer.getInteger(at: self.buffer.readerIndex, as: UInt8.self),
            let length = self.buffer.getInteger(at: self.buffer.readerIndex + 1, as: UInt32.self)
        else { return nil }
        guard flag <= 1 else { throw .invalidFlag(flag) }
        guard Int(length) <= self.maxMessageSize else { throw .tooLarge(Int(length)) }
        guard self.buffer.readableBytes >= 5 + Int(length) else { return nil }
        self.buffer.moveReaderIndex(forwardBy: 5)
        let bytes = self.buffer.readBytes(length: Int(length)) ?? []
        return Message(compressed: flag == 1, bytes: bytes)
    }

    /// Bytes received that do not yet form a whole message (non-zero at end of stream is an error).
    var partialBytes: Int { self.buffer.readableBytes }
}
