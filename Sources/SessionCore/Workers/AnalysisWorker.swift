import Foundation
import Logging
import ServiceErrors

/// Takes queued analysis jobs, runs the analyzer and moves each session to `analyzed` (or back
/// to `completed` with the error). Jobs are rows written with the move to `analyzing`, so work
/// queued before a crash is picked up at the next start.
package struct AnalysisWorker: Sendable {
    let service: SessionService
    let analyzer: any Analyzer
    let logger: Logger

    package init(service: SessionService, analyzer: any Analyzer, logger: Logger) {
        self.service = service
        self.analyzer = analyzer
        self.logger = logger
    }

    /// Runs until the task is cancelled.
    package func run() async {
        while !Task.isCancelled {
            let processed = (try? await self.runOnce()) ?? 0
            if processed == 0 {
                // Woken by a new job, or every second to pick up anything missed.
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.service.analysisQueue.wait() }
                    group.addTask { try? await Task.sleep(for: .seconds(1)) }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// Processes the jobs queued now; returns how many.
    @discardableResult
    package func runOnce() async throws -> Int {
        let jobs = try await self.service.store.queuedAnalysisJobs(limit: 16)
        for job in jobs {
            await self.process(job)
        }
        return jobs.count
    }

    private func process(_ job: AnalysisJob) async {
        let store = self.service.store
        let started = ContinuousClock.now
        do {
            guard var session = try await store.session(withID: job.sessionID), session.status == .analyzing else {
                try await store.commit(ChangeSet([.removeAnalysisJob(sessionID: job.sessionID)]))
                return
            }
            let input = AnalysisInput(
                session: session,
                notes: try await store.notes(sessionID: session.id),
                feedback: try await store.feedback(sessionID: session.id),
                jobDurations: try await store.completedDurations(org: session.org, jobID: session.jobID),
                jobNotes: try await store.notes(org: session.org, jobID: session.jobID)
            )
            let now = self.service.clock.now
            do {
                var analysis = try await self.analyzer.analyze(input)
                analysis.analyzedAt = now
                try session.finishAnalysis(at: now)
                try await store.commit(ChangeSet([.updateSession(session), .saveAnalysis(analysis)]))
                self.service.events.publish(SessionEvent(kind: .analysisCompleted, session: session))
            } catch let error as ServiceError where error.code == .aborted {
                throw error
            } catch {
                let message = (error as? ServiceError)?.message ?? "\(error)"
                try session.failAnalysis("analysis failed: \(message)", at: now)
                try await store.commit(ChangeSet([.updateSession(session), .removeAnalysisJob(sessionID: session.id)]))
                self.service.events.publish(SessionEvent(kind: .statusChanged, session: session))
                self.logger.warning("analysis failed", metadata: ["session_id": "\(session.id)", "error": "\(error)"])
            }
        } catch {
            // Left queued; the next pass retries it.
            self.logger.error("analysis job could not be processed",
                              metadata: ["session_id": "\(job.sessionID)", "error": "\(error)"])
        }
        let elapsed = ContinuousClock.now - started
        self.service.analysisQueue.finished(
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
