import Synchronization

/// A change to a session, for WatchSession subscribers.
package struct SessionEvent: Sendable {
    package enum Kind: String, Sendable {
        case snapshot
        case statusChanged = "status_changed"
        case analysisCompleted = "analysis_completed"
    }

    package var kind: Kind
    package var session: TestSession
}

/// In-process fan-out of committed session changes to watchers.
///
/// Events are published after the commit that caused them. With several instances sharing a
/// PostgreSQL database, each instance sees only its own changes (noted in the README).
package final class SessionEvents: Sendable {
    private struct Subscriber {
        var sessionID: String
        var continuation: AsyncStream<SessionEvent>.Continuation
    }

    private let subscribers = Mutex<[Int: Subscriber]>([:])
    private let nextID = Mutex(0)

    package init() {}

    /// Events for one session until the stream is dropped.
    package func subscribe(sessionID: String) -> AsyncStream<SessionEvent> {
        let id = self.nextID.withLock { value in
            value += 1
            return value
        }
        let (stream, continuation) = AsyncStream<SessionEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        self.subscribers.withLock { $0[id] = Subscriber(sessionID: sessionID, continuation: continuation) }
        return stream
    }

    package func publish(_ event: SessionEvent) {
        let targets = self.subscribers.withLock { subscribers in
            subscribers.values.filter { $0.sessionID == event.session.id }.map(\.continuation)
        }
        for target in targets { target.yield(event) }
    }

    package var subscriberCount: Int { self.subscribers.withLock { $0.count } }
}
