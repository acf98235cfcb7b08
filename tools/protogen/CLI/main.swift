import Foundation
import ProtoGen

// protogen [--check] [--root DIR]
// Regenerates every module listed in GenerationJob.all from schema/, or with --check reports
// generated files that are out of date and exits 1.
var arguments = Array(CommandLine.arguments.dropFirst())
let checkOnly = arguments.contains("--check")
arguments.removeAll { $0 == "--check" }
var root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
if let index = arguments.firstIndex(of: "--root"), index + 1 < arguments.count {
    root = URL(fileURLWithPath: arguments[index + 1])
}

do {
    var stale: [String] = []
    for job in GenerationJob.all {
        if checkOnly {
            stale += try ProtoGen.differences(job, repositoryRoot: root)
        } else {
            try ProtoGen.generate(job, repositoryRoot: root)
            print("generated \(job.outputDirectory)")
        }
    }
    if !stale.isEmpty {
        FileHandle.standardError.write(Data("out of date (run `swift run protogen`):\n  \(stale.joined(separator: "\n  "))\n".utf8))
        exit(1)
    }
} catch {
    FileHandle.standardError.write(Data("protogen: \(error)\n".utf8))
    exit(1)
}
