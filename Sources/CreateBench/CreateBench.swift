import Foundation
import HTTP2Transport
import NIOPosix
import RPCCore
import SessionAPI

/// `create-bench --port P --token T [--callers C] [--seconds S]`: durable CreateSession calls per
/// second through a running sessiond over gRPC (our HTTP/2 client), first with one caller at a
/// time (each create its own transaction: nothing to group), then with C concurrent callers
/// (group commit). Every session is new, so every call is a durable write acknowledged after fsync.
/// Sessions are spread over 100 jobs with their variant given (balancing an omitted variant
/// serializes the creates of one job). With `--server-pid`, each phase also reports the server's
/// CPU time per create (from /proc, both processes on this machine).
@main
enum CreateBench {
    static func main() async throws {
        let arguments = CommandLine.arguments
        func value(_ flag: String, _ fallback: String?) -> String? {
            guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return fallback }
            return arguments[index + 1]
        }
        guard let port = value("--port", nil).flatMap(Int.init), let token = value("--token", nil) else {
            FileHandle.standardError.write(Data("usage: create-bench --port P --token T [--callers C] [--seconds S]\n".utf8))
            exit(2)
        }
        let callers = Int(value("--callers", "64")!)!
        let serverPID = value("--server-pid", nil).flatMap(Int32.init)
        let seconds = Int(value("--seconds", "10")!)!
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // A few connections, as a pool of clients would use.
        let clients = (0..<4).map { _ in
            SessionServiceClient(channel: GRPCChannel(host: "127.0.0.1", port: port, group: group))
        }
        let options = CallOptions(metadata: Metadata([("authorization", "Bearer \(token)")]))
        let run = String(UInt32.random(in: .min ... .max), radix: 16)

        for concurrency in [1, callers] {
            let deadline = ContinuousClock.now + .seconds(seconds)
            let started = ContinuousClock.now
            let cpuBefore = serverPID.flatMap(Self.cpuSeconds)
            let (created, failed) = try await withThrowingTaskGroup(of: (Int, Int).self) { tasks in
                for caller in 0..<concurrency {
                    let client = clients[caller % clients.count]
                    tasks.addTask {
                        var (count, failures) = (0, 0)
                        while ContinuousClock.now < deadline {
                            var request = CreateSessionRequest()
                            // Spread over 100 jobs with the variant given, as store-bench does: an
                            // omitted variant is balanced per job, one create at a time per job.
                            request.jobID = "bench-\(run)-\(concurrency)-\(caller % 100)"
                            request.testerID = "t-\(caller)-\(count)"
                            request.variant = count % 2 == 0 ? "A" : "B"
                            do {
                                _ = try await client.createSession(request, options: options)
                                count += 1
                            } catch {
                                failures += 1
                            }
                        }
                        return (count, failures)
                    }
                }
                var total = (0, 0)
                for try await (count, failures) in tasks { total = (total.0 + count, total.1 + failures) }
                return total
            }
            let elapsed = ContinuousClock.now - started
            let rate = Double(created) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            var line = String(format: "%3d callers: %8.0f durable creates/s (%d created, %d failed)", concurrency, rate, created, failed)
            if let before = cpuBefore, let after = serverPID.flatMap(Self.cpuSeconds), created > 0 {
                line += String(format: ", server CPU %.0f µs per create", (after - before) * 1e6 / Double(created))
            }
            print(line)
        }
        try await group.shutdownGracefully()
    }

    /// User and system CPU seconds a process has used (/proc/PID/stat fields 14 and 15).
    private static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let afterName = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the parenthesized command name start at field 3.
        let fields = stat[stat.index(after: afterName)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
