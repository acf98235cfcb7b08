import Foundation
import NIOConcurrencyHelpers

/// Where the core gets the time, and how its workers wait; tests use `ManualClock`.
package protocol WallClock: Sendable {
    var now: Date { get }
    /// Suspends for `seconds` of this clock's time; returns early when the task is cancelled.
    func sleep(for seconds: TimeInterval) async
}

package struct SystemWallClock: WallClock {
    package init() {}

    package var now: Date { Date() }

    package func sleep(for seconds: TimeInterval) async {
        try? await Task.sleep(for: .seconds(max(0, seconds)))
    }
}

/// A clock that moves only when told to; sleepers wake when `advance` passes their deadline.
package final class ManualClock: WallClock {
    private struct Sleeper {
        var id: Int
        var deadline: Date
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var now: Date
        var sleepers: [Sleeper] = []
        var nextID = 0
    }

    private let state: NIOLockedValueBox<State>

    package init(_ start: Date = Date(timeIntervalSince1970: 1_773_655_200)) {
        self.state = NIOLockedValueBox(State(now: start))
    }

    package var now: Date { self.state.withLockedValue { $0.now } }

    /// How many tasks are asleep on this clock.
    package var sleeperCount: Int { self.state.withLockedValue { $0.sleepers.count } }

    package func advance(by seconds: TimeInterval) {
        let due = self.state.withLockedValue { state in
            state.now = state.now.addingTimeInterval(seconds)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    package func sleep(for seconds: TimeInterval) async {
        let id = self.state.withLockedValue { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Under the lock, so a concurrent cancellation either finds this sleeper or is seen here.
                let resumeNow = self.state.withLockedValue { state in
                    guard seconds > 0, !Task.isCancelled else { return true }
                    state.sleepers.append(Sleeper(id: id, deadline: state.now.addingTimeInterval(seconds), continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let cancelled = self.state.withLockedValue { state in
                let index = state.sleepers.firstIndex { $0.id == id }
                return index.map { state.sleepers.remove(at: $0) }
            }
            cancelled?.continuation.resume()
        }
    }
}
