import Foundation
import NIOConcurrencyHelpers

/// Wakes the analysis worker when work is queued and estimates how long a new job will wait:
/// (jobs ahead + 1) × the mean of recent analysis times.
package final class AnalysisQueue: Sendable {
    private struct State {
        var depth = 0
        var recentSeconds: [Double] = []
        var waiters: [CheckedContinuation<Void, Never>] = []
        var pendingSignal = false
    }

    private let state = NIOLockedValueBox(State())

    package init() {}

    /// Called when a job is queued.
    package func signal() {
        let waiters = self.state.withLockedValue { state in
            state.depth += 1
            defer { state.waiters = [] }
            if state.waiters.isEmpty { state.pendingSignal = true }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits for a signal (returns at once if one came since the last wait, or when the task is
    /// cancelled, so a stopping worker never hangs here).
    package func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLockedValue { state in
                    if state.pendingSignal || Task.isCancelled {
                        state.pendingSignal = false
                        return true
                    }
                    state.waiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiters = self.state.withLockedValue { state in
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Called by the worker after each job, with how long the analysis took.
    package func finished(seconds: Double) {
        self.state.withLockedValue { state in
            state.depth = max(0, state.depth - 1)
            state.recentSeconds.append(seconds)
            if state.recentSeconds.count > 20 { state.recentSeconds.removeFirst() }
        }
    }

    package func estimatedSeconds() -> Int {
        self.state.withLockedValue { state in
            let mean = state.recentSeconds.isEmpty ? 2.0 : state.recentSeconds.reduce(0, +) / Double(state.recentSeconds.count)
            return max(1, Int((Double(max(1, state.depth)) * mean).rounded(.up)))
        }
    }
}
