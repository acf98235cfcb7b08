@testable import SessionCore
import Testing

@Suite("friction detection")
struct FrictionDetectorTests {
    @Test("finds the sentence, its category and severity", arguments: [
        ("Could not find the back button. Everything else was fine.", "navigation", "medium"),
        ("The checkout page crashed twice.", "bug", "high"),
        ("Search results were slow to load.", "performance", "medium"),
        ("The wording of step 3 was confusing, but they figured it out.", "comprehension", "low"),
    ])
    func detects(note: String, category: String, severity: String) {
        let findings = FrictionDetector.detect(in: note)
        #expect(findings.count == 1)
        #expect(findings.first?.category.rawValue == category)
        #expect(findings.first?.severity.rawValue == severity)
    }

    @Test("notes without problems yield nothing", arguments: [
        "Completed every task quickly.", "No errors at all; the flow felt natural.", "Found it easily on the first try.",
    ])
    func ignoresPositiveNotes(note: String) {
        #expect(FrictionDetector.detect(in: note).isEmpty)
    }
}
