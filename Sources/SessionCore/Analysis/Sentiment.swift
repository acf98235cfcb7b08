import Foundation

/// Lexicon sentiment of the notes and feedback: a score from -1 to 1 and a label.
enum Sentiment {
    static let positive = ["easy", "easily", "clear", "smooth", "great", "liked", "love", "quick", "quickly",
                           "intuitive", "recovered", "success", "straightforward", "pleasant", "helpful", "fast",
                           "enjoyed", "confident", "worked well", "no issues"]
    static let negative = ["struggl", "confus", "frustrat", "slow", "broken", "error", "difficult", "hard",
                           "annoy", "fail", "gave up", "crash", "stuck", "lost", "unclear", "bug", "couldn't",
                           "could not", "didn't work", "wrong"]

    static func score(notes: [String], feedback: Feedback?) -> (score: Double, label: String) {
        var positive = 0.0
        var negative = 0.0
        for text in notes + [feedback?.comment ?? ""] {
            let lower = text.lowercased()
            positive += Double(self.positive.filter { lower.contains($0) }.count)
            negative += Double(self.negative.filter { lower.contains($0) }.count)
        }
        if let feedback {
            // Clear instructions and easy tasks lean positive; technical issues negative.
            positive += Double(max(0, feedback.clarity - 3)) + Double(max(0, 3 - feedback.difficulty))
            negative += Double(max(0, 3 - feedback.clarity)) + Double(max(0, feedback.difficulty - 3))
            if feedback.technicalIssues { negative += 1 }
        }
        let score = (positive - negative) / (positive + negative + 1)
        let rounded = (score * 100).rounded() / 100
        let label = rounded > 0.2 ? "positive" : rounded < -0.2 ? "negative" : "neutral"
        return (rounded, label)
    }
}
