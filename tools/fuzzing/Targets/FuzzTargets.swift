import Foundation

/// One fuzz target: a name (`tools/fuzz NAME`) and the function that takes one input.
///
/// A target returns normally for any input our code rejects; a crash, a failed `precondition`
/// (a broken round-trip property) or a sanitizer report is a finding.
struct FuzzTarget: Sendable {
    var name: String
    var run: @Sendable (UnsafeRawBufferPointer) -> Void
    /// A few valid inputs made by our own encoders: the seed corpus (`tools/fuzz --seed`).
    var seeds: @Sendable () -> [[UInt8]]
}

/// Every target; libFuzzer builds one binary and `FUZZ_TARGET` picks the target it drives.
let fuzzTargets: [FuzzTarget] = [
    FuzzTarget(name: "protobuf", run: ProtobufTarget.run, seeds: { ProtobufTarget.seeds }),
    FuzzTarget(name: "grpc-framing", run: GRPCFramingTarget.run, seeds: { GRPCFramingTarget.seeds }),
    FuzzTarget(name: "http1", run: HTTP1Target.run, seeds: { HTTP1Target.seeds }),
    FuzzTarget(name: "http2", run: HTTP2Target.run, seeds: { HTTP2Target.seeds }),
    FuzzTarget(name: "http2-headers", run: HTTP2HeadersTarget.run, seeds: { HTTP2HeadersTarget.seeds }),
    FuzzTarget(name: "rest-body", run: RESTBodyTarget.run, seeds: { RESTBodyTarget.seeds }),
    FuzzTarget(name: "jwt", run: JWTTarget.run, seeds: { JWTTarget.seeds }),
    FuzzTarget(name: "rfc3339", run: RFC3339Target.run, seeds: { RFC3339Target.seeds }),
    FuzzTarget(name: "page-token", run: PageTokenTarget.run, seeds: { PageTokenTarget.seeds }),
    FuzzTarget(name: "proto-parser", run: ProtoParserTarget.run, seeds: { ProtoParserTarget.seeds }),
]

func fuzzTarget(named name: String) -> FuzzTarget {
    guard let target = fuzzTargets.first(where: { $0.name == name }) else {
        FileHandle.standardError.write(
            Data("unknown fuzz target '\(name)'; known: \(fuzzTargets.map(\.name).joined(separator: " "))\n".utf8)
        )
        exit(2)
    }
    return target
}

/// Writes every target's seeds to `root/<target>/seed-<n>` (a corpus libFuzzer starts from).
func writeSeeds(to root: String) throws {
    for target in fuzzTargets {
        let directory = root + "/" + target.name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (index, seed) in target.seeds().enumerated() {
            try Data(seed).write(to: URL(fileURLWithPath: "\(directory)/seed-\(index)"))
        }
    }
}

/// Deterministic choices drawn from the front of an input (which message, how to split it), so
/// the rest of the input stays the payload libFuzzer mutates.
struct FuzzInput {
    private(set) var rest: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) {
        self.rest = bytes
    }

    /// The next byte, or 0 when the input is used up.
    mutating func byte() -> UInt8 {
        guard let first = self.rest.first else { return 0 }
        self.rest = UnsafeRawBufferPointer(rebasing: self.rest.dropFirst())
        return first
    }

    /// Up to `count` bytes off the front.
    mutating func prefix(_ count: Int) -> [UInt8] {
        let taken = Array(self.rest.prefix(count))
        self.rest = UnsafeRawBufferPointer(rebasing: self.rest.dropFirst(taken.count))
        return taken
    }
}

#if FUZZING
/// Built with `-DFUZZING -sanitize=fuzzer,address` by tools/fuzz. SwiftPM links an executable's
/// entry point as `main`, so libFuzzer's own `main` is replaced by this one, which hands the
/// command line to libFuzzer's driver.
private let selectedTarget: FuzzTarget = fuzzTarget(named: ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
enum Fuzzer {
    static func main() throws {
        if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--write-seeds" {
            try writeSeeds(to: CommandLine.arguments[2])
            return
        }
        // Runs the seeds once before libFuzzer starts, so state built lazily (key rings, the
        // gateway, the router) exists before the first input and is not counted as its memory.
        for seed in selectedTarget.seeds() {
            seed.withUnsafeBytes { selectedTarget.run($0) }
        }
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzz))
    }
}
#else
/// Without libFuzzer (the normal build) the binary replays inputs: `FuzzTargets TARGET PATH…`,
/// each path a file or a directory of files, e.g. a crash file or a corpus.
@main
enum Replay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first else {
            print("usage: FuzzTargets TARGET PATH…; targets: \(fuzzTargets.map(\.name).joined(separator: " "))")
            exit(2)
        }
        let target = fuzzTarget(named: name)
        var count = 0
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let files = isDirectory.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                bytes.withUnsafeBytes { target.run($0) }
                count += 1
            }
        }
        print("\(name): \(count) inputs replayed")
    }
}
#endif
