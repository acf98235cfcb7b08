import Foundation
import ServiceErrors

/// A thread that owns one SQLite connection and runs jobs on it in order, so blocking SQLite
/// calls never run on an event loop or the cooperative pool (STYLE.md §5).
final class DatabaseThread: @unchecked Sendable {
    // @unchecked: `jobs` and `stopped` are guarded by `condition`; `connection` is touched only
    // by the thread itself after `init`.
    typealias Job = (SQLiteConnection) -> Void

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var stopped = false
    private let connection: SQLiteConnection
    /// Work to run once the current run of queued jobs is done; touched only on the thread.
    private var afterRun: [() -> Void] = []

    init(name: String, connection: SQLiteConnection) {
        self.connection = connection
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on the thread and returns its result.
    func run<Result: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            self.submit { connection in
                continuation.resume(with: Swift.Result { try body(connection) })
            }
        }
    }

    /// Queues a job; jobs queued while the thread is busy run together (see `drainAll`).
    func submit(_ job: @escaping Job) {
        self.condition.lock()
        self.jobs.append(job)
        self.condition.signal()
        self.condition.unlock()
    }

    func stop() {
        self.condition.lock()
        self.stopped = true
        self.condition.signal()
        self.condition.unlock()
    }

    private func loop() {
        while true {
            self.condition.lock()
            while self.jobs.isEmpty && !self.stopped { self.condition.wait() }
            if self.jobs.isEmpty && self.stopped {
                self.condition.unlock()
                return
            }
            let batch = self.jobs
            self.jobs.removeAll(keepingCapacity: true)
            self.condition.unlock()
            for job in batch { job(self.connection) }
            let after = self.afterRun
            self.afterRun = []
            for work in after { work() }
        }
    }

    /// Schedules `work` after the jobs of the current run (called from a job). Registering the
    /// same flush from every job of a run is harmless: the first one does the work.
    func afterCurrentRun(_ work: @escaping () -> Void) {
        if self.afterRun.isEmpty { self.afterRun.append(work) }
    }
}
