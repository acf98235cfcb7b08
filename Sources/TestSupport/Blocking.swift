import Foundation

/// Runs blocking work (pipe reads, waiting for a process) on its own thread, so it never ties
/// up one of the few threads of Swift's cooperative pool — on 2 cores that would starve every
/// server under test.
package func runBlocking<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            continuation.resume(returning: work())
        }
        thread.start()
    }
}

/// Runs a command to completion off the cooperative pool; returns its status and combined output.
package func runCommand(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = await runBlocking { pipe.fileHandleForReading.readDataToEndOfFile() }
    await runBlocking { process.waitUntilExit() }
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Reads one line from a pipe off the cooperative pool.
func readLine(from pipe: Pipe) async -> String {
    await runBlocking {
        var line: [UInt8] = []
        while let byte = try? pipe.fileHandleForReading.read(upToCount: 1), let first = byte.first {
            if first == UInt8(ascii: "\n") { break }
            line.append(first)
        }
        return String(decoding: line, as: UTF8.self)
    }
}

/// For a test's CPU-bound loop: yields to the other tests at every `every`-th iteration. The suite
/// shares one cooperative thread per core, and a test that holds one for a second delays every
/// other test's wake-up (timeouts then fire on a stalled machine, not on a slow server).
package func yieldNowAndThen(iteration: Int, every: Int) async {
    if iteration % every == 0 { await Task.yield() }
}
