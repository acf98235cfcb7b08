import Foundation
import NIOCore
import NIOPosix

/// A raw TCP client for tests: writes bytes, collects whatever comes back until the peer closes
/// or a time limit passes.
final class TestConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let lock = NSLock()
    private var received: [UInt8] = []
    private var closed = false
    private var channel: (any Channel)?

    /// `reading: false` never reads (and asks for a 4 KiB receive buffer): a client that stops
    /// taking what the server sends.
    static func connect(port: Int, group: any EventLoopGroup, reading: Bool = true) async throws -> TestConnection {
        let connection = TestConnection()
        var bootstrap = ClientBootstrap(group: group)
        if !reading {
            bootstrap = bootstrap.channelOption(.autoRead, value: false).channelOption(.socketOption(.so_rcvbuf), value: 4096)
        }
        let channel = try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(connection) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        connection.channel = channel
        return connection
    }

    func send(_ bytes: [UInt8]) async throws {
        guard let channel = self.channel else { return }
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).get()
    }

    func send(_ text: String) async throws {
        try await self.send(Array(text.utf8))
    }

    /// Waits until `condition` holds for the bytes received so far (or the peer closed), at most `timeout`.
    func waitFor(timeout: Duration = .seconds(5), _ condition: ([UInt8]) -> Bool) async throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (bytes, closed) = self.lock.withLock { (self.received, self.closed) }
            if condition(bytes) || closed { return bytes }
            try await Task.sleep(for: .milliseconds(5))
        }
        return self.lock.withLock { self.received }
    }

    var isClosed: Bool { self.lock.withLock { self.closed } }

    func close() async {
        try? await self.channel?.close()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        self.lock.withLock { self.received += bytes }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.lock.withLock { self.closed = true }
    }
}

extension [UInt8] {
    var text: String { String(decoding: self, as: UTF8.self) }

    func occurrences(of needle: String) -> Int {
        self.text.components(separatedBy: needle).count - 1
    }

    /// The status codes of the HTTP/1.1 responses received, in order. Bodies have no trailing
    /// newline, so each status line is found by its text.
    var statuses: [Substring] {
        self.text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) }
    }
}
