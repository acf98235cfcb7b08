import Foundation

/// The embedded default analyzer: deterministic, local, no network. It reads the notes, the
/// feedback and the timings and produces a summary, sentiment, friction points (quotes with a
/// category and severity), themes across the job's sessions, a duration comparison against the
/// job's median and a suggested rating.
package struct LocalAnalyzer: Analyzer {
    package static let name = "sessiond-local/1"

    package init() {}

    package func analyze(_ input: AnalysisInput) async throws -> Analysis {
        let friction = input.notes.flatMap { note in
            FrictionDetector.detect(in: note.content).map { finding in
                Analysis.FrictionPoint(
                    quote: finding.quote, category: finding.category.rawValue,
                    severity: finding.severity.rawValue, noteID: note.id)
            }
        }
        let sentiment = Sentiment.score(notes: input.notes.map(\.content), feedback: input.feedback)
        let duration = input.session.durationSeconds(at: input.session.completedAt ?? input.session.updatedAt)
        let median = Self.median(input.jobDurations)
        let themes = Self.themes(session: friction, jobNotes: input.jobNotes, sessionID: input.session.id)
        let rating = Self.suggestedRating(friction: friction, sentiment: sentiment.score, input: input)
        return Analysis(
            sessionID: input.session.id,
            summary: Self.summary(input: input, friction: friction, sentiment: sentiment.label,
                                  duration: duration, median: median),
            sentimentScore: sentiment.score,
            sentimentLabel: sentiment.label,
            frictionPoints: friction,
            themes: themes,
            durationSeconds: duration,
            jobMedianSeconds: median,
            suggestedRating: rating,
            analyzedAt: input.session.updatedAt,
            analyzer: Self.name
        )
    }

    static func median(_ values: [Int64]) -> Int64 {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Categories seen in this session, ordered by how many of the job's sessions share them.
    static func themes(session friction: [Analysis.FrictionPoint], jobNotes: [Note], sessionID: String) -> [String] {
        var sessionsByCategory: [String: Set<String>] = [:]
        for note in jobNotes {
            for finding in FrictionDetector.detect(in: note.content) {
                sessionsByCategory[finding.category.rawValue, default: []].insert(note.sessionID)
            }
        }
        for point in friction { sessionsByCategory[point.category, default: []].insert(sessionID) }
        return sessionsByCategory
            .filter { $0.value.contains(sessionID) }
            .sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }
            .map { category, sessions in
                sessions.count > 1 ? "\(category) (\(sessions.count) sessions)" : category
            }
    }

    static func suggestedRating(friction: [Analysis.FrictionPoint], sentiment: Double, input: AnalysisInput) -> Int {
        // A thorough tester leaves notes and feedback; friction found is useful, not a penalty.
        var rating = 3.0
        if input.notes.count >= 3 { rating += 1 }
        if input.feedback != nil { rating += 0.5 }
        if let comment = input.feedback?.comment, comment.count >= 40 { rating += 0.5 }
        if input.notes.isEmpty && input.feedback == nil { rating -= 1.5 }
        if !friction.isEmpty { rating += 0.25 }
        _ = sentiment
        return Int(min(5, max(1, rating.rounded())))
    }

    static func summary(input: AnalysisInput, friction: [Analysis.FrictionPoint], sentiment: String,
                        duration: Int64, median: Int64) -> String {
        var sentences: [String] = []
        let minutes = Double(duration) / 60
        var timing = String(format: "The tester was active for %.1f minutes", minutes)
        if median > 0 {
            let ratio = Double(duration) / Double(median)
            timing += String(format: ", %.0f%% of the job's median", ratio * 100)
        }
        sentences.append(timing + ".")
        if friction.isEmpty {
            sentences.append("No friction was reported in \(input.notes.count) note\(input.notes.count == 1 ? "" : "s").")
        } else {
            var counts: [String: Int] = [:]
            for point in friction { counts[point.category, default: 0] += 1 }
            let parts = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.value) \($0.key)" }
            let high = friction.filter { $0.severity == "high" }.count
            sentences.append("Friction points: \(parts.joined(separator: ", "))"
                + (high > 0 ? ", \(high) of them severe." : "."))
        }
        if let feedback = input.feedback {
            sentences.append("Feedback rated clarity \(feedback.clarity)/5 and difficulty \(feedback.difficulty)/5"
                + (feedback.technicalIssues ? ", with technical issues." : "."))
        }
        sentences.append("Overall sentiment is \(sentiment).")
        return sentences.joined(separator: " ")
    }
}
