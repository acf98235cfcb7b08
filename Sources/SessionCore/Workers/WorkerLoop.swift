import Foundation
import Logging
import ServiceErrors

/// The loop both queue workers run until their task is cancelled: another pass right after one
/// that found work; a wait when one found none (until woken or `idleSeconds`); exponential
/// backoff with jitter while passes fail, so a database that is down is not hammered.
package struct WorkerLoop: Sendable {
    let name: String
    let clock: any WallClock
    let idleSeconds: TimeInterval
    let backoff: RetryPolicy
    let jitter: @Sendable () -> Double
    let logger: Logger

    package init(
        name: String,
        clock: any WallClock,
        idleSeconds: TimeInterval,
        backoff: RetryPolicy = RetryPolicy(firstDelay: 0.25, maxDelay: 30),
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        logger: Logger
    ) {
        self.name = name
        self.clock = clock
        self.idleSeconds = idleSeconds
        self.backoff = backoff
        self.jitter = jitter
        self.logger = logger
    }

    /// Runs `pass` (which returns how many jobs it took) until cancelled; `wake` returns when
    /// new work may be waiting.
    package func run(wake: (@Sendable () async -> Void)? = nil, pass: @Sendable () async throws -> Int) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let taken = try await pass()
                failures = 0
                if taken == 0 { await self.idle(wake: wake) }
            } catch {
                failures += 1
                let delay = self.backoff.delay(afterFailures: failures, jitter: self.jitter())
                self.logger.warning("\(self.name) pass failed; backing off", metadata: [
                    "failures": "\(failures)", "delay_seconds": "\(delay)", "error": "\(error)",
                ])
                await self.clock.sleep(for: delay)
            }
        }
    }

    /// Processes a pass's claimed jobs in order. A job whose lease was taken over meanwhile
    /// (`aborted`) is left to its new holder; any other failure to record an outcome is thrown
    /// after the batch, so the loop backs off, and that job returns when its lease expires.
    package static func process<Job>(
        _ jobs: [Job],
        logger: Logger,
        metadata: (Job) -> Logger.Metadata,
        _ body: (Job) async throws -> Void
    ) async throws {
        var firstError: (any Error)?
        for job in jobs {
            do {
                try await body(job)
            } catch let error as ServiceError where error.code == .aborted {
                logger.notice("lease expired and was taken over; its new holder finishes the job", metadata: metadata(job))
            } catch {
                logger.error("job outcome could not be recorded; retried when the lease expires",
                             metadata: metadata(job).merging(["error": "\(error)"]) { _, new in new })
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// An error as a job records it: a `ServiceError`'s message (safe to show), else its description.
    static func describe(_ error: any Error) -> String {
        (error as? ServiceError)?.message ?? "\(error)"
    }

    private func idle(wake: (@Sendable () async -> Void)?) async {
        let clock = self.clock
        let seconds = self.idleSeconds
        guard let wake else { return await clock.sleep(for: seconds) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await wake() }
            group.addTask { await clock.sleep(for: seconds) }
            await group.next()
            group.cancelAll()
        }
    }
}
