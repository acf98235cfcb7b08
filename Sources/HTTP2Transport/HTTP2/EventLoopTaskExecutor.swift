import NIOConcurrencyHelpers
import NIOCore

/// Runs a task's jobs on a connection's event loop, so a handler that does not wait on anything
/// else never leaves the loop's thread (STYLE.md §5: a task kept on the loop costs ~0.8 µs, a
/// hop to the cooperative pool and back far more when both share a core).
final class EventLoopTaskExecutor: TaskExecutor {
    private let loop: any EventLoop
    /// Jobs enqueued from other threads (a store resuming its callers), run by one hop: a batch
    /// of completions wakes the loop once, not once per job (each wake-up is an eventfd write).
    private let inbox = NIOLockedValueBox(Inbox())

    private struct Inbox {
        var jobs: [UnownedJob] = []
        var scheduled = false
    }

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = self.asUnownedTaskExecutor()
        if self.loop.inEventLoop {
            self.loop.execute { job.runSynchronously(on: executor) }
            return
        }
        let schedule = self.inbox.withLockedValue { inbox in
            inbox.jobs.append(job)
            defer { inbox.scheduled = true }
            return !inbox.scheduled
        }
        guard schedule else { return }
        self.loop.execute {
            let jobs = self.inbox.withLockedValue { inbox in
                inbox.scheduled = false
                defer { inbox.jobs = [] }
                return inbox.jobs
            }
            for job in jobs { job.runSynchronously(on: executor) }
        }
    }
}

extension EventLoop {
    /// Runs `body` now when already on this loop (a task on the loop's executor), else hops.
    /// The one place where work crosses back onto a connection's loop.
    func onLoop(_ body: @escaping @Sendable () -> Void) {
        if self.inEventLoop {
            body()
        } else {
            self.execute(body)
        }
    }
}

extension TimeAmount {
    /// A Swift `Duration` as NIO's `TimeAmount`, saturating instead of overflowing.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = .nanoseconds(overflow ? .max : nanos &+ attoseconds / 1_000_000_000)
    }
}
