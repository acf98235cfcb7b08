import Foundation
import Logging
import SessionCore
import SessionStorePostgres
import SessionStoreSQLite

/// `store-bench [--database-url URL] [--rows N] [--callers C] [--creates N]`: measures the
/// session stores directly (tools/bench/store.sh runs it for SQLite and PostgreSQL):
///   1. durable creates/s through the use case with C concurrent callers (group commit on SQLite);
///   2. the same creates one at a time (one transaction each), for comparison;
///   3. get-by-id latency (p50/p99) on a cold store holding N sessions.
/// `store-bench --fill PATH [--rows N]` only fills the SQLite database at PATH with N sessions
/// (org `bench`, IDs `sess_bulk000000000`…), for tools/bench/startup.sh.
@main
enum StoreBench {
    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        func value(_ flag: String, _ fallback: String?) -> String? {
            guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return fallback }
            defer { arguments.removeSubrange(index...(index + 1)) }
            return arguments[index + 1]
        }
        let url = value("--database-url", nil)
        let rows = Int(value("--rows", "1000000")!)!
        let callers = Int(value("--callers", "64")!)!
        let creates = Int(value("--creates", "20000")!)!
        var logger = Logger(label: "store-bench")
        logger.logLevel = .warning
        if let fillPath = value("--fill", nil) {
            let store = try SQLiteSessionStore(path: fillPath)
            let started = ContinuousClock.now
            _ = try await Self.fill(store, rows: rows)
            print(String(format: "filled %@ with %d sessions in %.1f s", fillPath, rows, Self.seconds(ContinuousClock.now - started)))
            return
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bench.sqlite").path
        func open() async throws -> any SessionStore {
            if let url { return try await PostgresSessionStore.connect(url: url, logger: logger) }
            return try SQLiteSessionStore(path: path)
        }
        let backend = url == nil ? "SQLite" : "PostgreSQL"
        let store = try await open()
        let service = SessionService(store: store, clock: SystemWallClock())
        let caller = Principal(subject: "bench", role: .service, org: "bench")

        // 1. Concurrent durable creates.
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<callers {
                group.addTask {
                    for index in stride(from: worker, to: creates, by: callers) {
                        _ = try await service.create(jobID: "job-\(index % 100)", testerID: "c-\(index)", variant: "A", by: caller)
                    }
                }
            }
            try await group.waitForAll()
        }
        let concurrent = Double(creates) / Self.seconds(ContinuousClock.now - started)
        print(String(format: "%@: durable creates, %d concurrent callers: %.0f/s", backend, callers, concurrent))

        // 2. The same, one caller: every create its own transaction and fsync.
        let serialCount = min(creates, 2_000)
        let serialStart = ContinuousClock.now
        for index in 0..<serialCount {
            _ = try await service.create(jobID: "serial", testerID: "s-\(index)", variant: "A", by: caller)
        }
        let serial = Double(serialCount) / Self.seconds(ContinuousClock.now - serialStart)
        print(String(format: "%@: durable creates, 1 caller (one transaction per request): %.0f/s (%.1fx less)",
                     backend, serial, concurrent / serial))

        // 3. Fill to `rows`, then time gets by ID on a cold store.
        let ids = try await Self.fill(store, rows: rows)
        if let postgres = store as? PostgresSessionStore { postgres.close() }
        let cold = try await open()  // an empty cache: every get reads the database
        var latencies: [Double] = []
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let id = ids.randomElement(using: &generator)!
            let start = ContinuousClock.now
            guard try await cold.session(withID: id) != nil else { fatalError("missing \(id)") }
            latencies.append(Self.seconds(ContinuousClock.now - start) * 1e6)
        }
        latencies.sort()
        let listStart = ContinuousClock.now
        let page = try await cold.sessions(matching: SessionQuery(org: "bench", jobID: "bulk-7", limit: 50))
        let listMicros = Self.seconds(ContinuousClock.now - listStart) * 1e6
        print(String(format: "%@: get by ID at %d rows, cold: p50 %.0f us, p99 %.0f us; list by job (50 of %d): %.0f us",
                     backend, rows, latencies[latencies.count / 2], latencies[latencies.count * 99 / 100],
                     page.count, listMicros))
        if let postgres = cold as? PostgresSessionStore { postgres.close() }
    }

    /// Adds `rows` sessions in batches of 5,000; returns their IDs.
    static func fill(_ store: any SessionStore, rows: Int) async throws -> [String] {
        var ids: [String] = []
        ids.reserveCapacity(rows)
        let base = Date()
        var batch = ChangeSet()
        for index in 0..<rows {
            let id = "sess_bulk\(String(format: "%09d", index))"
            ids.append(id)
            batch.append(.insertSession(TestSession(id: id, org: "bench", jobID: "bulk-\(index % 1000)",
                                                    testerID: "b-\(index)", variant: .b,
                                                    createdAt: base.addingTimeInterval(Double(index) / 1000))))
            if batch.changes.count == 5_000 {
                try await store.commit(batch)
                batch = ChangeSet()
            }
        }
        if !batch.changes.isEmpty { try await store.commit(batch) }
        return ids
    }

    /// Prints at once (stdout to a file is block-buffered).
    static func print(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
