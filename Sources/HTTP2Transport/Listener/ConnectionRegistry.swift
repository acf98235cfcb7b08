import NIOCore
import NIOConcurrencyHelpers

/// The server's open connections: counted for the connection limit, and told to drain on shutdown.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        var channel: any Channel
        /// Starts a graceful close on the connection's own event loop.
        var drain: (@Sendable () -> Void)?
        /// Counts the connection's open streams, on its own event loop.
        var openStreams: (@Sendable () -> EventLoopFuture<Int>)?
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        /// Open connections per client IP address.
        var perAddress: [String: Int] = [:]
    }

    private let state = NIOLockedValueBox(State())
    private let drained = NIOLockedValueBox<[CheckedContinuation<Void, Never>]>([])

    enum Admission: Equatable {
        case admitted
        case serverFull
        case clientFull
    }

    /// Adds a connection unless the server's or its client address's limit is reached; removes
    /// it again when it closes.
    func admit(_ channel: any Channel, limit: Int, perClientLimit: Int) -> Admission {
        let id = ObjectIdentifier(channel)
        let address = channel.remoteAddress?.ipAddress ?? ""
        let admission = self.state.withLockedValue { state -> Admission in
            guard state.entries.count < limit else { return .serverFull }
            guard state.perAddress[address, default: 0] < perClientLimit else { return .clientFull }
            state.entries[id] = Entry(channel: channel)
            state.perAddress[address, default: 0] += 1
            return .admitted
        }
        guard admission == .admitted else { return admission }
        channel.closeFuture.whenComplete { _ in
            let empty = self.state.withLockedValue { state in
                state.entries[id] = nil
                state.perAddress[address, default: 1] -= 1
                if state.perAddress[address] == 0 { state.perAddress[address] = nil }
                return state.entries.isEmpty
            }
            if empty { self.resumeWaiters() }
        }
        return .admitted
    }

    /// Registers how to drain a connection once its protocol is known.
    func setDrain(for channel: any Channel, _ drain: @escaping @Sendable () -> Void) {
        self.state.withLockedValue { $0.entries[ObjectIdentifier(channel)]?.drain = drain }
    }

    func setOpenStreams(for channel: any Channel, _ count: @escaping @Sendable () -> EventLoopFuture<Int>) {
        self.state.withLockedValue { $0.entries[ObjectIdentifier(channel)]?.openStreams = count }
    }

    /// Streams open across every HTTP/2 connection.
    func openStreamCount() async -> Int {
        let counters = self.state.withLockedValue { $0.entries.values.compactMap(\.openStreams) }
        var total = 0
        for counter in counters { total += (try? await counter().get()) ?? 0 }
        return total
    }

    var count: Int { self.state.withLockedValue { $0.entries.count } }

    /// Asks every connection to finish its in-flight work and close.
    func drainAll() {
        let entries = self.state.withLockedValue { Array($0.entries.values) }
        for entry in entries {
            if let drain = entry.drain {
                drain()
            } else {
                entry.channel.close(promise: nil)
            }
        }
    }

    func closeAll() {
        let channels = self.state.withLockedValue { $0.entries.values.map(\.channel) }
        for channel in channels { channel.close(promise: nil) }
    }

    /// Returns once no connection is open.
    func waitUntilEmpty() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let empty = self.state.withLockedValue { $0.entries.isEmpty }
            if empty {
                continuation.resume()
            } else {
                self.drained.withLockedValue { $0.append(continuation) }
                // The last connection may have closed between the two checks.
                if self.state.withLockedValue({ $0.entries.isEmpty }) { self.resumeWaiters() }
            }
        }
    }

    private func resumeWaiters() {
        let waiters = self.drained.withLockedValue { waiters in
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
