import Foundation
import TestSupport
import Testing

/// What an operator sees when start-up cannot go on: one clear line, exit 1, nothing left behind.
@Suite("sessiond start-up")
struct StartupTests {
    static var sessiond: String { ServerProcess.productsDirectory.appendingPathComponent("sessiond").path }

    @Test("a second server on the same data directory is refused, naming the first; the first keeps serving")
    func startWhenDataDirectoryInUse() async throws {
        let data = try PythonScript.temporaryDirectory()
        let first = try await ServerProcess("sessiond", ["serve", "--port", "0", "--data-dir", data.path])
        let port = try #require(first.port)
        let second = try await runCommand(Self.sessiond, ["serve", "--port", "0", "--data-dir", data.path])
        #expect(second.status == 1, "\(second.output)")
        #expect(second.output.contains("another sessiond is serving from it (pid \(first.processIdentifier))"), "\(second.output)")
        let health = try await runCommand("/usr/bin/curl", ["-sS", "http://127.0.0.1:\(port)/healthz"])
        #expect(health.output.contains("ok"), "\(health.output)")
        // Once the first is gone (even by kill -9: the kernel drops the lock), the directory is free.
        await first.stop(signal: SIGKILL)
        let third = try await ServerProcess("sessiond", ["serve", "--port", "0", "--data-dir", data.path])
        #expect(third.port != nil)
        let status = await third.stop()
        let errors = await third.standardError()
        #expect(status == 0, "\(errors)")
    }

    @Test("a port in use is named with its address, and the failed start leaves no JWT secret behind")
    func startWhenPortInUse() async throws {
        let first = try await ServerProcess("sessiond", ["serve", "--port", "0", "--data-dir", try PythonScript.temporaryDirectory().path])
        let port = try #require(first.port)
        let data = try PythonScript.temporaryDirectory()
        let second = try await runCommand(Self.sessiond, ["serve", "--port", String(port), "--data-dir", data.path])
        await first.stop()
        #expect(second.status == 1)
        #expect(second.output.contains("cannot listen on 127.0.0.1:\(port): Address already in use"), "\(second.output)")
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("jwt-secret").path))
    }

    @Test("an unreachable database stops start-up within --database-timeout, with retries logged and no JWT secret left")
    func startWhenDatabaseUnreachable() async throws {
        let data = try PythonScript.temporaryDirectory()
        let started = ContinuousClock.now
        // Port 1 on loopback refuses every connection; the pool keeps retrying until the timeout.
        let result = try await runCommand(
            Self.sessiond,
            ["serve", "--port", "0", "--data-dir", data.path, "--database-url", "postgres://app@127.0.0.1:1/sessions",
                "--database-timeout", "7"]
        )
        let elapsed = ContinuousClock.now - started
        #expect(result.status == 1)
        #expect(result.output.contains("cannot reach PostgreSQL at 127.0.0.1:1 within 7"), "\(result.output)")
        #expect(result.output.contains("PostgreSQL not reached yet; retrying"), "\(result.output)")
        #expect(elapsed >= .seconds(6) && elapsed < .seconds(20), "gave up after \(elapsed)")
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("jwt-secret").path))
    }

    @Test("a data directory that cannot be used is named, with the system's reason", arguments: [
        ("/proc/no-such-dir/data", "cannot create the data directory /proc/no-such-dir/data: /proc/no-such-dir: No such file or directory"),
        ("FILE", "sessiond.lock: Not a directory"),
    ])
    func startWhenDataDirectoryUnusable(path: String, message: String) async throws {
        var path = path
        if path == "FILE" {
            path = try PythonScript.temporaryDirectory().appendingPathComponent("a-file").path
            try Data().write(to: URL(fileURLWithPath: path))
        }
        let result = try await runCommand(Self.sessiond, ["serve", "--port", "0", "--data-dir", path])
        #expect(result.status == 1)
        #expect(result.output.contains(message), "\(result.output)")
        #expect(!result.output.contains("NSCocoaErrorDomain"))
    }

    @Test("a SIGTERM sent the moment the first line appears stops the server gracefully, every time")
    func signalWhenJustStarted() async throws {
        for _ in 0..<10 {
            let server = try await ServerProcess("sessiond", ["serve", "--port", "0", "--data-dir", try PythonScript.temporaryDirectory().path])
            let status = await server.stop()  // SIGTERM right after the first line
            let errors = await server.standardError()
            #expect(status == 0 && errors.contains("shutting down"), "exit \(status): \(errors)")
        }
    }

    @Test("--version prints the version and the commit it was built from")
    func version() async throws {
        let result = try await runCommand(Self.sessiond, ["--version"])
        #expect(result.status == 0)
        let text = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let head = try await runCommand("/usr/bin/git", ["-C", FileManager.default.currentDirectoryPath, "rev-parse", "--short=12", "HEAD"])
        let commit = head.output.trimmingCharacters(in: .whitespacesAndNewlines)
        // "0.3.0 (commit 0123456789ab)", with "-dirty" when built with uncommitted changes.
        #expect(text.hasPrefix("0.3.0 (commit \(commit)"), "\(text), HEAD is \(commit)")
        #expect(text.split(separator: " ").first?.split(separator: ".").count == 3, "\(text)")
    }
}
