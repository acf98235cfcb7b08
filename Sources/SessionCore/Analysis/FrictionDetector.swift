import Foundation

/// Finds friction in a researcher's note: which sentence, what kind, how bad.
///
/// Rules are phrase lists per category, matched on lower-cased sentences; a sentence that also
/// reports recovery ("after a second attempt it worked") stays friction but is milder. Tuned on
/// the first half of the labelled notes in Tests/SessionCoreTests/Analysis/ only.
package enum FrictionDetector {
    package enum Category: String, Sendable, CaseIterable {
        case navigation, comprehension, bug, performance
    }

    package enum Severity: String, Sendable {
        case low, medium, high
    }

    package struct Finding: Sendable, Equatable {
        package var quote: String
        package var category: Category
        package var severity: Severity
    }

    static let cues: [(Category, [String])] = [
        (.bug, [
            "error", "crash", "broken", "bug", "doesn't work", "does not work", "didn't work", "did not work",
            "not working", "failed", "fails", "404", "500", "froze", "frozen", "glitch", "blank page", "blank screen",
            "wouldn't load", "would not load", "didn't load", "did not load", "disappeared", "wrong total",
            "double charged", "charged twice", "reset the form", "lost their input", "lost the input",
            "did nothing", "as a valid", "did not match", "didn't match", "doesn't match", "reset itself",
        ]),
        (.performance, [
            "slow", "loading", "took forever", "took a long time", "lag", "laggy", "spinner", "timed out", "timeout",
            "waited", "wait for", "sluggish", "delay", "hang", "hung", "seconds to", "took almost", "took nearly",
        ]),
        (.navigation, [
            "couldn't find", "could not find", "can't find", "cannot find", "didn't find", "did not find",
            "looking for", "where to", "lost", "back button", "menu", "navigate", "navigation", "scrolled past",
            "hidden", "went back", "wrong page", "dead end", "searched for", "hunted for", "missed the",
            "kept going back", "wrong tab", "locate", "find how",
        ]),
        (.comprehension, [
            "confus", "unclear", "didn't understand", "did not understand", "not sure what", "unsure",
            "wasn't sure", "was not sure", "misread", "misunderstood", "ambiguous", "what it meant",
            "meaning of", "instructions", "jargon", "wording", "label", "didn't know", "did not know",
            "hesitated", "puzzled", "meant nothing", "not sure which",
        ]),
    ]

    /// Cues that say plainly what kind of problem it was; they outweigh an incidental word of
    /// another category ("the error text meant nothing to her" is about understanding).
    static let strongCues: Set<String> = [
        "meant nothing", "didn't understand", "did not understand", "not sure what", "not sure which",
        "couldn't find", "could not find", "crash", "took forever",
    ]

    static let severe = [
        "gave up", "give up", "couldn't complete", "could not complete", "unable to", "impossible", "blocked",
        "crash", "charged twice", "double charged", "lost their input", "abandon", "stuck",
    ]

    static let struggle = ["struggled", "frustrat", "annoyed", "several attempts", "multiple attempts", "again and again"]

    static let recovery = ["recovered", "eventually", "after a second", "on the second", "figured it out", "then found"]

    /// Sentences that describe no problem at all, even if they mention a cue word.
    static let negations = ["no error", "no errors", "without error", "no issues", "no problem", "not confus",
                            "wasn't confus", "not slow", "no lag", "easily found", "found it easily", "with ease"]

    package static func detect(in text: String) -> [Finding] {
        var findings: [Finding] = []
        let sentences = self.sentences(text)
        for (index, sentence) in sentences.enumerated() {
            let lower = sentence.lowercased()
            // How bad it was is often said in the next sentence ("… an error. They gave up.").
            let context = index + 1 < sentences.count ? lower + " " + sentences[index + 1].lowercased() : lower
            if self.negations.contains(where: lower.contains) { continue }
            guard let category = self.category(of: lower) else { continue }
            var severity = Severity.medium
            if self.severe.contains(where: context.contains) {
                severity = .high
            } else if self.recovery.contains(where: context.contains) {
                severity = .low
            } else if self.struggle.contains(where: context.contains) {
                severity = .high
            }
            findings.append(Finding(quote: sentence, category: category, severity: severity))
        }
        return findings
    }

    /// The category whose cues weigh most in the sentence; ties go to the earlier category.
    static func category(of sentence: String) -> Category? {
        var best: (Category, Int)?
        for (category, cues) in self.cues {
            let weight = cues.filter { sentence.contains($0) }.reduce(0) { $0 + (self.strongCues.contains($1) ? 2 : 1) }
            if weight > 0 && weight > (best?.1 ?? 0) { best = (category, weight) }
        }
        return best?.0
    }

    static func sentences(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if character == "." || character == "!" || character == "?" || character == "\n" {
                let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { result.append(trimmed) }
                current = ""
            }
        }
        let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { result.append(trimmed) }
        return result
    }
}
