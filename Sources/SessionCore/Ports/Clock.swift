import Foundation
import Synchronization

/// Where the core gets the time; tests use `ManualClock`.
package protocol WallClock: Sendable {
    var now: Date { get }
}

package struct SystemWallClock: WallClock {
    package init() {}

    package var now: Date { Date() }
}

/// A clock that moves only when told to.
package final class ManualClock: WallClock {
    private let current: Mutex<Date>

    package init(_ start: Date = Date(timeIntervalSince1970: 1_773_655_200)) {
        self.current = Mutex(start)
    }

    package var now: Date { self.current.withLock { $0 } }

    package func advance(by seconds: TimeInterval) {
        self.current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
