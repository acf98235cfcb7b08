import Foundation
import TestSupport
import Testing

/// Settings are input too (STYLE §12): every numeric flag and its environment variable is
/// range-checked before anything starts.
@Suite("sessiond settings")
struct SettingsTests {
    static let numericFlags = [
        "max-connections", "max-connections-per-client", "handshake-timeout", "max-buffered-request-bytes",
        "max-queued-response-bytes", "max-concurrent-streams", "max-message-bytes", "idle-timeout", "keepalive-interval", "job-lease", "database-timeout",
    ]
    static let badValues = ["0", "-1", "1e20", "inf", "nan", "12345678901234567890"]

    /// Runs `sessiond serve` on a fresh data directory (never created when start-up is refused).
    static func serve(_ arguments: [String], environment: [String: String] = [:]) async throws
        -> (status: Int32, output: String, dataDirectoryCreated: Bool)
    {
        let parent = try PythonScript.temporaryDirectory()
        let data = parent.appendingPathComponent("data").path
        let executable = ServerProcess.productsDirectory.appendingPathComponent("sessiond").path
        let env = ["/usr/bin/env"] + environment.map { "\($0.key)=\($0.value)" } + [executable]
        let (status, output) = try await runCommand(
            env[0], Array(env.dropFirst()) + ["serve", "--port", "0", "--data-dir", data] + arguments
        )
        return (status, output, FileManager.default.fileExists(atPath: data))
    }

    @Test("each numeric flag out of range, non-finite or non-numeric stops the server at start (exit 2)", arguments: numericFlags)
    func numericFlagWhenInvalid(flag: String) async throws {
        for value in Self.badValues {
            let result = try await Self.serve(["--\(flag)=\(value)"])
            #expect(result.status == 2, "--\(flag)=\(value): exit \(result.status): \(result.output)")
            #expect(result.output.contains("--\(flag)"), "--\(flag)=\(value): \(result.output)")
            #expect(!result.dataDirectoryCreated, "--\(flag)=\(value) created the data directory")
        }
    }

    @Test("the same through the environment, naming the variable and the flag's range", arguments: numericFlags)
    func environmentWhenInvalid(flag: String) async throws {
        let variable = "SESSIOND_" + flag.uppercased().replacingOccurrences(of: "-", with: "_")
        for value in Self.badValues {
            let result = try await Self.serve([], environment: [variable: value])
            #expect(result.status == 2, "\(variable)=\(value): exit \(result.status): \(result.output)")
            #expect(result.output.contains(variable) || result.output.contains("--\(flag)"), "\(variable)=\(value): \(result.output)")
            #expect(result.output.contains(" and "), "the range is named: \(result.output)")
        }
    }

    @Test("rate limits must be finite and bounded; the port must be a port", arguments: [
        ["--rate-limits", "tester=20/1e20"], ["--rate-limits", "tester=inf/40"], ["--rate-limits", "tester=nan/40"],
        ["--rate-limits", "tester=0/40"], ["--rate-limits", "tester=20/0.5"], ["--rate-limits", "tester=-1/40"],
        ["--port=-1"], ["--port=65536"], ["--port=1e20"],
        ["--max-connections=10", "--max-connections-per-client=11"],
    ])
    func settingWhenInvalid(arguments: [String]) async throws {
        let result = try await Self.serve(arguments)
        #expect(result.status == 2, "\(arguments): exit \(result.status): \(result.output)")
        #expect(result.output.contains(arguments[arguments.count - 1].split(separator: "=")[0].prefix(12)), "\(result.output)")
        #expect(!result.dataDirectoryCreated)
    }

    /// A settings file in a fresh directory.
    static func configFile(_ json: String) throws -> String {
        let file = try PythonScript.temporaryDirectory().appendingPathComponent("sessiond.json")
        try json.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test("a config file's settings are checked like flags, and unknown names are refused (exit 2)", arguments: [
        (#"{"job-lease": 0}"#, "--job-lease must be between 1 and 3600"),
        (#"{"max-concurrent-streams": 99999999999}"#, "max-concurrent-streams"),
        (#"{"max-conections": 10}"#, "unknown setting max-conections"),
        (#"{"access-log": "yes"}"#, "access-log must be true or false"),
        (#"[1, 2]"#, "is not a JSON object"),
    ])
    func configFileWhenInvalid(json: String, message: String) async throws {
        let result = try await Self.serve(["--config", try Self.configFile(json)])
        #expect(result.status == 2, "\(json): exit \(result.status): \(result.output)")
        #expect(result.output.contains(message), "\(json): \(result.output)")
        #expect(!result.dataDirectoryCreated)
    }

    @Test("a config file that is a FIFO, or over 1 MiB, is refused at once (exit 2)")
    func configFileWhenNotAFile() async throws {
        let fifo = try PythonScript.temporaryDirectory().appendingPathComponent("never-ends")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let started = ContinuousClock.now
        let blocked = try await Self.serve(["--config", fifo.path])
        #expect(blocked.status == 2 && blocked.output.contains("not a readable regular file"), "\(blocked.output)")
        // Reading a FIFO blocks until a writer comes, which never does: "at once" is anything
        // short of that (the bound is loose: the suite starts many processes at once on 2 cores).
        #expect(ContinuousClock.now - started < .seconds(30))
        let huge = try Self.configFile("{" + String(repeating: " ", count: 1 << 21) + "}")
        let large = try await Self.serve(["--config", huge])
        #expect(large.status == 2 && large.output.contains("over 1 MiB"), "\(large.output)")
    }

    @Test("a flag wins over the environment, and the environment over the config file")
    func configFileWhenOverridden() async throws {
        let file = try Self.configFile(#"{"job-lease": 0, "handshake-timeout": 0, "access-log": true}"#)
        let data = try PythonScript.temporaryDirectory()
        let server = try await ServerProcess(
            "sessiond",
            ["serve", "--port", "0", "--data-dir", data.path, "--config", file, "--job-lease", "5"],
            environment: ["SESSIOND_HANDSHAKE_TIMEOUT": "5"]
        )
        let port = try #require(server.port)
        _ = try await HTTPTestClient.request(port: port, "GET", "/healthz")
        await server.stop()
        let log = await server.standardError()
        // The file's access-log (no flag, no variable) took effect: the request is logged.
        #expect(log.contains("/healthz"), "\(log)")
    }

    @Test("every flag of sessiond serve can be set in a config file")
    func configFileKnowsEveryFlag() async throws {
        let executable = ServerProcess.productsDirectory.appendingPathComponent("sessiond").path
        let help = try await runCommand(executable, ["serve", "--help"]).output
        // Option lines start with the flag (`  --max-connections <max-connections>`).
        let flags = Set(help.split(separator: "\n").compactMap { line in
            line.firstMatch(of: /^\s+--([a-z][a-z-]+)/).map { String($0.1) }
        }).subtracting(["help", "version", "config"])
        #expect(flags.count > 20, "\(help)")
        let json = "{" + flags.sorted().map { #""\#($0)": \#($0 == "access-log" ? "true" : "\"x\"")"# }.joined(separator: ", ") + "}"
        let result = try await Self.serve(["--config", try Self.configFile(json)])
        #expect(result.status == 2)
        #expect(!result.output.contains("unknown setting"), "\(result.output)")
    }
}
