import Foundation
import ProtoGen
import TestSupport
import Testing

@Suite("generated code is up to date")
struct GoldenTests {
    @Test("regenerating every schema reproduces the committed Swift byte for byte", arguments: GenerationJob.all.map(\.outputDirectory))
    func generatedCodeMatches(outputDirectory: String) throws {
        let job = try #require(GenerationJob.all.first { $0.outputDirectory == outputDirectory })
        let differences = try ProtoGen.differences(job, repositoryRoot: PythonScript.repositoryRoot)
        #expect(differences.isEmpty, "stale generated files (run `swift run protogen`): \(differences)")
    }
}
