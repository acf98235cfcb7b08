import Foundation
import Logging
import ServiceErrors

/// Claims analysis jobs, runs the analyzer and moves each session to `analyzed` (or back to
/// `completed` with the analyzer's error). Jobs are rows written with the move to `analyzing`
/// and claimed with a lease, so work queued before a crash, or held by an instance that died, is
/// picked up by whichever instance claims it next. A job that fails on the store is retried after
/// an exponential backoff with jitter, and after `policy.maxAttempts` attempts it is recorded as
/// `failed` and its session returns to `completed` with the error.
package struct AnalysisWorker: Sendable {
    let service: SessionService
    let analyzer: any Analyzer
    /// This instance's ID, the owner of its leases.
    let owner: String
    let policy: RetryPolicy
    let jitter: @Sendable () -> Double
    let logger: Logger

    package init(
        service: SessionService,
        analyzer: any Analyzer,
        owner: String = IDGenerator.instanceID(),
        policy: RetryPolicy = RetryPolicy(),
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        logger: Logger
    ) {
        self.service = service
        self.analyzer = analyzer
        self.owner = owner
        self.policy = policy
        self.jitter = jitter
        self.logger = logger
    }

    /// Runs until the task is cancelled: woken by a job queued here, or every second for jobs
    /// queued by other instances, retries and expired leases.
    package func run() async {
        let queue = self.service.analysisQueue
        await WorkerLoop(name: "analysis worker", clock: self.service.clock, idleSeconds: 1, jitter: self.jitter, logger: self.logger)
            .run(wake: { await queue.wait() }, pass: { try await self.runOnce() })
    }

    /// Claims the jobs due now (a few, so each lease outlasts the batch) and processes them;
    /// returns how many it claimed. Throws (after the batch) when a job's outcome could not be
    /// recorded: that job is retried when its lease expires.
    @discardableResult
    package func runOnce() async throws -> Int {
        let claim = JobClaim(owner: self.owner, now: self.service.clock.now, leaseDuration: self.policy.leaseDuration, limit: 4)
        let jobs = try await self.service.store.claimAnalysisJobs(claim)
        try await WorkerLoop.process(jobs, logger: self.logger, metadata: {
            ["session_id": "\($0.sessionID)", "attempt": "\($0.attempts)"]
        }) { job in
            let started = ContinuousClock.now
            defer {
                let elapsed = ContinuousClock.now - started
                self.service.analysisQueue.finished(
                    seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
            try await self.process(job)
        }
        return jobs.count
    }

    private func process(_ job: AnalysisJob) async throws {
        var attempt = JobAttempt(lease: job.lease, policy: self.policy)
        if case .record(let outcome) = try attempt.start(lastError: job.lastError) {
            return try await self.record(outcome, sessionID: job.sessionID, lease: job.lease)
        }
        do {
            try await self.analyze(job.sessionID, attempt)
        } catch {
            // The store failed or a concurrent change won: nothing was committed; try again later.
            let message = WorkerLoop.describe(error)
            let outcome = try attempt.failed(message, at: self.service.clock.now, jitter: self.jitter())
            self.logger.warning("analysis attempt failed", metadata: [
                "session_id": "\(job.sessionID)", "attempt": "\(job.attempts)", "error": "\(message)",
            ])
            try await self.record(outcome, sessionID: job.sessionID, lease: job.lease)
        }
    }

    /// Runs one attempt and commits its result with the job's outcome; throws, having committed
    /// nothing, when the store fails (the caller decides on a retry with the same attempt).
    private func analyze(_ sessionID: String, _ running: JobAttempt) async throws {
        var attempt = running
        let store = self.service.store
        let lease = attempt.lease
        guard var session = try await store.session(withID: sessionID), session.status == .analyzing else {
            // Nothing left to analyze (the session moved on): the job is done.
            let outcome = try attempt.succeeded(at: self.service.clock.now)
            try await store.commit(ChangeSet([.finishAnalysisJob(sessionID: sessionID, lease: lease, outcome: outcome)]))
            return JobMetrics.record(outcome, queue: "analysis")
        }
        let input = AnalysisInput(
            session: session,
            notes: try await store.notes(sessionID: session.id),
            feedback: try await store.feedback(sessionID: session.id),
            jobDurations: try await store.completedDurations(org: session.org, jobID: session.jobID),
            jobNotes: try await store.notes(org: session.org, jobID: session.jobID)
        )
        let now = self.service.clock.now
        var analysis: Analysis
        do {
            analysis = try await self.analyzer.analyze(input)
        } catch {
            // The analyzer's verdict is final for this request: the session returns to `completed`
            // with the error, and a researcher may ask again.
            let message = "analysis failed: \(WorkerLoop.describe(error))"
            let outcome = try attempt.failed(message, at: now, retryable: false, jitter: 0)
            try session.failAnalysis(message, at: now)
            try await store.commit(ChangeSet([
                .updateSession(session), .finishAnalysisJob(sessionID: sessionID, lease: lease, outcome: outcome),
            ]))
            JobMetrics.record(outcome, queue: "analysis")
            self.service.events.publish(SessionEvent(kind: .statusChanged, session: session))
            self.logger.warning("analysis failed", metadata: ["session_id": "\(session.id)", "error": "\(error)"])
            return
        }
        analysis.analyzedAt = now
        try session.finishAnalysis(at: now)
        let outcome = try attempt.succeeded(at: now)
        try await store.commit(ChangeSet([
            .updateSession(session), .saveAnalysis(analysis),
            .finishAnalysisJob(sessionID: sessionID, lease: lease, outcome: outcome),
        ]))
        JobMetrics.record(outcome, queue: "analysis")
        self.service.events.publish(SessionEvent(kind: .analysisCompleted, session: session))
    }

    /// Records an outcome decided without a successful analysis. A job failed for good also
    /// returns its session to `completed` with the error, so it can be analyzed again.
    private func record(_ outcome: JobOutcome, sessionID: String, lease: JobLease) async throws {
        let store = self.service.store
        var changes = ChangeSet([.finishAnalysisJob(sessionID: sessionID, lease: lease, outcome: outcome)])
        var failed: TestSession?
        if case .failed(let error) = outcome, var session = try await store.session(withID: sessionID),
            session.status == .analyzing
        {
            try session.failAnalysis(error, at: self.service.clock.now)
            changes.append(.updateSession(session))
            failed = session
        }
        try await store.commit(changes)
        JobMetrics.record(outcome, queue: "analysis")
        if let failed {
            self.service.events.publish(SessionEvent(kind: .statusChanged, session: failed))
            self.logger.error("analysis failed for good", metadata: [
                "session_id": "\(sessionID)", "error": "\(failed.lastAnalysisError ?? "")",
            ])
        }
    }
}
