import Foundation
@testable import SessionCore
import Testing

/// Friction detection measured against notes labelled by hand (`labelled-notes.tsv`): the rules
/// were tuned on the "tune" half; the "holdout" half is only measured.
@Suite("friction detection against labelled notes")
struct LabelledFrictionTests {
    struct Labelled {
        var half: String
        var category: String
        var note: String
    }

    static func load() throws -> [Labelled] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("labelled-notes.tsv")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.isEmpty }
            .map { line in
                let parts = line.split(separator: "\t", maxSplits: 2).map(String.init)
                return Labelled(half: parts[0], category: parts[1], note: parts[2])
            }
    }

    struct Scores: CustomStringConvertible {
        var truePositives = 0
        var falsePositives = 0
        var falseNegatives = 0
        var rightCategory = 0

        var precision: Double { Double(self.truePositives) / Double(max(1, self.truePositives + self.falsePositives)) }
        var recall: Double { Double(self.truePositives) / Double(max(1, self.truePositives + self.falseNegatives)) }
        var description: String {
            String(format: "precision %.2f, recall %.2f, category right for %d of %d found",
                   self.precision, self.recall, self.rightCategory, self.truePositives)
        }
    }

    static func score(_ notes: [Labelled]) -> (Scores, [String]) {
        var scores = Scores()
        var misses: [String] = []
        for note in notes {
            let findings = FrictionDetector.detect(in: note.note)
            switch (note.category != "none", !findings.isEmpty) {
            case (true, true):
                scores.truePositives += 1
                if findings.contains(where: { $0.category.rawValue == note.category }) {
                    scores.rightCategory += 1
                } else {
                    misses.append("category \(findings.map(\.category.rawValue)) for \(note.category): \(note.note)")
                }
            case (false, true):
                scores.falsePositives += 1
                misses.append("false positive: \(note.note)")
            case (true, false):
                scores.falseNegatives += 1
                misses.append("missed \(note.category): \(note.note)")
            case (false, false):
                break
            }
        }
        return (scores, misses)
    }

    @Test("at least 60 labelled notes, split in two halves")
    func labelledSet() throws {
        let notes = try Self.load()
        #expect(notes.count >= 60)
        #expect(Set(notes.map(\.half)) == ["tune", "holdout"])
    }

    @Test("on the held-out half: precision ≥ 0.8 and recall ≥ 0.7")
    func holdout() throws {
        let (scores, misses) = Self.score(try Self.load().filter { $0.half == "holdout" })
        print("holdout: \(scores)\n  " + misses.joined(separator: "\n  "))
        #expect(scores.precision >= 0.8, "\(scores)")
        #expect(scores.recall >= 0.7, "\(scores)")
    }

    @Test("on the tuning half (reported, for comparison)")
    func tuning() throws {
        let (scores, misses) = Self.score(try Self.load().filter { $0.half == "tune" })
        print("tuning: \(scores)\n  " + misses.joined(separator: "\n  "))
        #expect(scores.precision >= 0.8)
    }
}
