import Foundation
import TestSupport
import Testing

@Suite("payout ledger")
struct PayoutLedgerTests {
    @Test("a torn last line in the ledger file is cut off at start-up, not fatal; new records are whole lines")
    func tornLedgerRepaired() async throws {
        let data = try PythonScript.temporaryDirectory()
        let ledger = data.appendingPathComponent("payout-ledger.jsonl")
        let whole = #"{"org":"o","payoutId":"pay_old","sessionId":"s","testerId":"t"}"# + "\n"
        try Data((whole + #"{"org":"o","payoutId":"pay_torn","sess"#).utf8).write(to: ledger)
        let server = try await ServerProcess("sessiond", ["serve", "--port", "0", "--data-dir", data.path])
        let port = try #require(server.port)
        let output = try await PythonScript.run(
            "Tests/SessionServerTests/lifecycle_grpc.py",
            ["--port", String(port), "--secret-file", data.appendingPathComponent("jwt-secret").path]
        )
        let status = await server.stop()
        let errors = await server.standardError()
        #expect(output.status == 0, "\(output.text)")
        #expect(status == 0, "\(errors)")
        #expect(errors.contains("repaired a torn last line"), "\(errors)")
        let text = try String(contentsOf: ledger, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(text.hasPrefix(whole) && text.hasSuffix("\n") && lines.count == 3, "\(text)")
        for line in lines.dropLast() {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect((object?["payoutId"] as? String)?.hasPrefix("pay_") == true, "\(line)")
        }
    }

    @Test("a ledger record the file lacks (a kill between the table's commit and the copy) is copied at the next start")
    func ledgerFileCatchesUp() async throws {
        let data = try PythonScript.temporaryDirectory()
        let ledger = data.appendingPathComponent("payout-ledger.jsonl")
        let first = try await ServerProcess("sessiond", ["serve", "--port", "0", "--data-dir", data.path])
        let output = try await PythonScript.run(
            "Tests/SessionServerTests/lifecycle_grpc.py",
            ["--port", String(try #require(first.port)), "--secret-file", data.appendingPathComponent("jwt-secret").path]
        )
        await first.stop()
        #expect(output.status == 0, "\(output.text)")
        let recorded = try String(contentsOf: ledger, encoding: .utf8)
        #expect(recorded.split(separator: "\n").count == 1, "\(recorded)")
        try Data().write(to: ledger)  // the copy never happened
        let second = try await ServerProcess("sessiond", ["serve", "--port", "0", "--data-dir", data.path])
        let status = await second.stop()
        let errors = await second.standardError()
        #expect(status == 0, "\(errors)")
        #expect(errors.contains("copied ledger records to the ledger file"), "\(errors)")
        #expect(try String(contentsOf: ledger, encoding: .utf8) == recorded)
    }

    @Test("three PostgreSQL-backed instances, one killed with SIGKILL during delivery and restarted twice: every payout delivered exactly once")
    func instancesShareTheQueues() async throws {
        let output = try await PythonScript.run(
            "Tests/SessionServerTests/instances_test.py",
            ["--binary", ServerProcess.productsDirectory.appendingPathComponent("sessiond").path,
             "--database-url", try await StoreKind.freshDatabase(), "--instances", "3", "--kills", "2", "--sessions", "200"],
            timeout: .seconds(240)
        )
        print(output.text.split(separator: "\n").suffix(12).joined(separator: "\n"))
        #expect(output.status == 0, "\(output.text)")
        #expect(output.text.contains(" 0 failed"), "\(output.text)")
    }
}
