import NIOConcurrencyHelpers

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
/// Events are published after the commit that caused them, by this instance's use cases and
/// workers, and (with PostgreSQL) for every other instance's commits through `LISTEN/NOTIFY`;
/// each subscriber gets each session version once, in order, whichever arrives first.
package final class SessionEvents: Sendable {
    private struct Subscriber {
        var sessionID: String
        var continuation: AsyncStream<SessionEvent>.Continuation
        /// The newest session version this subscriber was sent.
        var lastVersion: Int64 = 0
    }

    private let subscribers = NIOLockedValueBox<[Int: Subscriber]>([:])
    private let nextID = NIOLockedValueBox(0)

    package init() {}

    /// Events for one session until the stream is dropped.
    package func subscribe(sessionID: String) -> AsyncStream<SessionEvent> {
        let id = self.nextID.withLockedValue { value in
            value += 1
            return value
        }
        let (stream, continuation) = AsyncStream<SessionEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLockedValue { $0.removeValue(forKey: id) }
        }
        self.subscribers.withLockedValue { $0[id] = Subscriber(sessionID: sessionID, continuation: continuation) }
        return stream
    }

    package func publish(_ event: SessionEvent) {
        let targets = self.subscribers.withLockedValue { subscribers in
            var targets: [AsyncStream<SessionEvent>.Continuation] = []
            for (id, subscriber) in subscribers
            where subscriber.sessionID == event.session.id && event.session.version > subscriber.lastVersion {
                subscribers[id]?.lastVersion = event.session.version
                targets.append(subscriber.continuation)
            }
            return targets
        }
        for target in targets { target.yield(event) }
    }

    /// The sessions someone is watching now.
    package var watchedSessionIDs: Set<String> {
        self.subscribers.withLockedValue { Set($0.values.map(\.sessionID)) }
    }

    /// A session changed elsewhere (another instance): publishes its current state to its
    /// watchers, if any, and if it is newer than what they were sent.
    package func sessionChanged(_ id: String, version: Int64, in store: any SessionStore) async {
        guard self.subscribers.withLockedValue({ $0.values.contains { $0.sessionID == id } }),
            let session = try? await store.session(withID: id),
            session.version >= version
        else { return }
        self.publish(SessionEvent(kind: session.status == .analyzed ? .analysisCompleted : .statusChanged, session: session))
    }

    package var subscriberCount: Int { self.subscribers.withLockedValue { $0.count } }
}
