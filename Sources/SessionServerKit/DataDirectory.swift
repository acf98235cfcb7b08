import Foundation

/// A start-up problem the operator can fix, said plainly (the address that is taken, the
/// directory that cannot be used); `sessiond` prints it and exits 1.
package struct StartupFailure: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }

    /// The system's words for the last failed call's `errno`.
    static var systemReason: String { String(cString: strerror(errno)) }
}

/// The data directory, created when missing and used by one server at a time: an advisory
/// lock (`flock`) on `<dir>/sessiond.lock`, which holds the owner's PID for operators. The
/// kernel releases it when the process ends, however it ends (kill -9 included), so a crash
/// never leaves a stale lock behind.
final class DataDirectory: Sendable {
    let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        close(self.descriptor)
    }

    /// Creates `path` if needed and takes its lock, or says why not.
    static func claim(_ path: String) throws -> DataDirectory {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw StartupFailure("cannot create the data directory \(path): \(prefix): \(StartupFailure.systemReason)")
            }
            prefix += "/"
        }
        let lockPath = URL(fileURLWithPath: path).appendingPathComponent("sessiond.lock").path
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StartupFailure("cannot use the data directory \(path): \(lockPath): \(StartupFailure.systemReason)")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = busy ? "another sessiond is serving from it" : StartupFailure.systemReason
            var owner = ""
            if busy, let pid = try? String(contentsOfFile: lockPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
                !pid.isEmpty
            {
                owner = " (pid \(pid))"
            }
            close(descriptor)
            throw StartupFailure("cannot use the data directory \(path): \(reason)\(owner)")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        // Writable for what the server keeps there (the SQLite file, the JWT secret, the ledger).
        guard access(path, W_OK) == 0 else {
            close(descriptor)
            throw StartupFailure("cannot use the data directory \(path): \(StartupFailure.systemReason)")
        }
        return DataDirectory(path: path, descriptor: descriptor)
    }
}
