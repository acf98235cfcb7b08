import NIOCore
import Synchronization

/// The server's open connections: counted for the connection limit, and told to drain on shutdown.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        var channel: any Channel
        /// Starts a graceful close on the connection's own event loop.
        var drain: (@Sendable () -> Void)?
        /// Counts the connection's open streams, on its own event loop.
        var openStreams: (@Sendable () -> EventLoopFuture<Int>)?
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])
    private let drained = Mutex<[CheckedContinuation<Void, Never>]>([])

    /// Adds a connection unless the limit is reached; removes it again when it closes.
    func admit(_ channel: any Channel, limit: Int) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = self.entries.withLock { entries in
            guard entries.count < limit else { return false }
            entries[id] = Entry(channel: channel)
            return true
        }
        guard admitted else { return false }
        channel.closeFuture.whenComplete { _ in
            let empty = self.entries.withLock { entries in
                entries[id] = nil
                return entries.isEmpty
            }
            if empty { self.resumeWaiters() }
        }
        return true
    }

    /// Registers how to drain a connection once its protocol is known.
    func setDrain(for channel: any Channel, _ drain: @escaping @Sendable () -> Void) {
        self.entries.withLock { $0[ObjectIdentifier(channel)]?.drain = drain }
    }

    func setOpenStreams(for channel: any Channel, _ count: @escaping @Sendable () -> EventLoopFuture<Int>) {
        self.entries.withLock { $0[ObjectIdentifier(channel)]?.openStreams = count }
    }

    /// Streams open across every HTTP/2 connection.
    func openStreamCount() async -> Int {
        let counters = self.entries.withLock { $0.values.compactMap(\.openStreams) }
        var total = 0
        for counter in counters { total += (try? await counter().get()) ?? 0 }
        return total
    }

    var count: Int { self.entries.withLock { $0.count } }

    /// Asks every connection to finish its in-flight work and close.
    func drainAll() {
        let entries = self.entries.withLock { Array($0.values) }
        for entry in entries {
            if let drain = entry.drain {
                drain()
            } else {
                entry.channel.close(promise: nil)
            }
        }
    }

    func closeAll() {
        let channels = self.entries.withLock { $0.values.map(\.channel) }
        for channel in channels { channel.close(promise: nil) }
    }

    /// Returns once no connection is open.
    func waitUntilEmpty() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let empty = self.entries.withLock { $0.isEmpty }
            if empty {
                continuation.resume()
            } else {
                self.drained.withLock { $0.append(continuation) }
                // The last connection may have closed between the two checks.
                if self.entries.withLock({ $0.isEmpty }) { self.resumeWaiters() }
            }
        }
    }

    private func resumeWaiters() {
        let waiters = self.drained.withLock { waiters in
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
