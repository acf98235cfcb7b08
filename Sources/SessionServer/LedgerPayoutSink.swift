import Foundation
import ServiceErrors
import SessionCore
import Synchronization

/// The default payout sink: an append-only ledger file (`<data-dir>/payout-ledger.jsonl`), one
/// JSON line per payout, fsynced before delivery counts. A payout ID already in the ledger is
/// not written again, so redelivery after a crash never records a payment twice.
final class LedgerPayoutSink: PayoutSink {
    private let path: String
    private let recorded: Mutex<Set<String>>
    /// File writes and fsyncs run here, off the cooperative pool.
    private let queue = DispatchQueue(label: "payout-ledger")

    init(path: String) throws {
        self.path = path
        var ids = Set<String>()
        if let data = FileManager.default.contents(atPath: path) {
            for line in data.split(separator: UInt8(ascii: "\n")) {
                if let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                    let id = object["payoutId"] as? String
                {
                    ids.insert(id)
                }
            }
        } else {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw ServiceError(.unavailable, "cannot create the payout ledger \(path)")
            }
        }
        self.recorded = Mutex(ids)
    }

    /// Payout IDs in the ledger.
    var payoutIDs: Set<String> { self.recorded.withLock { $0 } }

    func deliver(_ payout: Payout) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            self.queue.async {
                continuation.resume(with: Result { try self.append(payout) })
            }
        }
    }

    private func append(_ payout: Payout) throws {
        try self.recorded.withLock { recorded in
            guard !recorded.contains(payout.id) else { return }
            let entry: [String: Any] = [
                "payoutId": payout.id, "sessionId": payout.sessionID, "testerId": payout.testerID, "org": payout.org,
                "recordedAt": ISO8601DateFormatter().string(from: Date()),
            ]
            var line = try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys])
            line.append(UInt8(ascii: "\n"))
            guard let handle = FileHandle(forWritingAtPath: self.path) else {
                throw ServiceError(.unavailable, "cannot open the payout ledger \(self.path)")
            }
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
            try handle.synchronize()
            recorded.insert(payout.id)
        }
    }
}
