import Foundation
import HTTP2Transport
import NIOCore
import Testing

@Suite("UsableCores")
struct UsableCoresTests {
    @Test("reads Linux CPU lists: single CPUs, ranges, both; rejects what does not parse")
    func cpuLists() {
        #expect(UsableCores.cpuCount(list: "0") == 1)
        #expect(UsableCores.cpuCount(list: "\t0-1\n") == 2)
        #expect(UsableCores.cpuCount(list: "0-3,6,8-9") == 7)
        #expect(UsableCores.cpuCount(list: "") == nil)
        #expect(UsableCores.cpuCount(list: "3-1") == nil)
        #expect(UsableCores.cpuCount(list: "0-") == nil)
        #expect(UsableCores.cpuCount(list: "a") == nil)
    }

    @Test("counts the CPUs this process may run on, as nproc does, within NIO's count")
    func matchesNproc() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nproc")
        // nproc would report OMP_NUM_THREADS instead of the affinity mask.
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMP_") }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let nproc = try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(UsableCores.count == min(System.coreCount, nproc))
    }
}
