import Foundation
import Logging
import ServiceErrors
import SessionCore

/// `<data-dir>/payout-ledger.jsonl`: a readable copy of the ledger records this data directory's
/// server made, one JSON line per payout, each payout once; appended with one `write` on a
/// descriptor opened `O_APPEND` and fsynced before the append returns.
///
/// Whole records only: a process killed in the middle of an append can leave a torn last line
/// (no newline). Opening the file repairs that, cutting the file back to its last whole line,
/// instead of failing or gluing the next record onto it; `catchUp` then copies whatever the
/// ledger table holds that the file lacks (a torn record, or one whose process died between the
/// table's commit and the copy).
final class PayoutJournal: Sendable {
    private let path: String
    /// Appends and fsyncs run here, off the cooperative pool, one at a time.
    private let queue = DispatchQueue(label: "payout-journal")
    /// Payout IDs in the file; touched only on `queue` after `init`.
    private nonisolated(unsafe) var written: Set<String> = []

    /// Opens (creating with mode 0600) the journal at `path`, repairing a torn last line.
    init(path: String, logger: Logger) throws {
        self.path = path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.failure("cannot open", path) }
        defer { close(descriptor) }
        let size = lseek(descriptor, 0, SEEK_END)
        guard size > 0 else { return }
        let whole = try Self.wholeLinesLength(descriptor, size: size, path: path)
        if whole < size {
            guard ftruncate(descriptor, whole) == 0, fsync(descriptor) == 0 else { throw Self.failure("cannot repair", path) }
            logger.warning("repaired a torn last line in the payout ledger file", metadata: [
                "path": "\(path)", "bytes_removed": "\(size - whole)",
            ])
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw Self.failure("cannot read", path) }
        for line in data.split(separator: UInt8(ascii: "\n")) {
            if let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let id = object["payoutId"] as? String
            {
                self.written.insert(id)
            }
        }
    }

    /// Appends the records the file lacks, in the order given; returns how many.
    func catchUp(with deliveries: some Sequence<PayoutDelivery>) async throws -> Int {
        var appended = 0
        for delivery in deliveries where try await self.append(delivery) { appended += 1 }
        return appended
    }

    /// The length of the file up to and including its last newline, read backwards in blocks.
    private static func wholeLinesLength(_ descriptor: Int32, size: off_t, path: String) throws -> off_t {
        var end = size
        var block = [UInt8](repeating: 0, count: 4096)
        while end > 0 {
            let start = max(0, end - off_t(block.count))
            let count = Int(end - start)
            let read = block.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, start) }
            guard read == count else { throw Self.failure("cannot read", path) }
            if let last = block[..<count].lastIndex(of: UInt8(ascii: "\n")) { return start + off_t(last) + 1 }
            end = start
        }
        return 0
    }

    /// Appends the record unless the file has its payout; returns whether it appended.
    @discardableResult
    func append(_ delivery: PayoutDelivery) async throws -> Bool {
        let entry: [String: Any] = [
            "payoutId": delivery.idempotencyKey, "sessionId": delivery.sessionID, "testerId": delivery.testerID,
            "org": delivery.org, "recordedBy": delivery.recordedBy,
            "recordedAt": ISO8601DateFormatter().string(from: delivery.recordedAt),
        ]
        var line = [UInt8](try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]))
        line.append(UInt8(ascii: "\n"))
        let record = line
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Bool, any Error>) in
            self.queue.async {
                continuation.resume(with: Result {
                    guard !self.written.contains(delivery.idempotencyKey) else { return false }
                    try self.write(record)
                    self.written.insert(delivery.idempotencyKey)
                    return true
                })
            }
        }
    }

    private func write(_ line: [UInt8]) throws {
        let descriptor = open(self.path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure("cannot open", self.path) }
        defer { close(descriptor) }
        let written = line.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else {
            // A short append is a torn line: cut it off now rather than at the next start.
            let end = lseek(descriptor, 0, SEEK_END)
            if written > 0, end >= written { _ = ftruncate(descriptor, end - written) }
            throw Self.failure("cannot append to", self.path)
        }
        guard fsync(descriptor) == 0 else { throw Self.failure("cannot fsync", self.path) }
    }

    private static func failure(_ what: String, _ path: String) -> ServiceError {
        ServiceError(.unavailable, "\(what) the payout ledger file \(path): \(String(cString: strerror(errno)))")
    }
}
