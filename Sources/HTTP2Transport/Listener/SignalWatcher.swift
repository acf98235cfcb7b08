import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Turns process signals into an awaitable event, with no window in which one is lost.
///
/// The handler is installed synchronously (`signal`) before `init` returns, and only writes the
/// signal's number to a pipe (async-signal-safe); a thread reads the pipe. (A dispatch source was
/// armed asynchronously after `init` set the signal to be ignored, so a SIGTERM sent as soon as
/// the first line appeared could be dropped on a busy machine, and the server never stopped.)
/// One watcher per process: the pipe is the process's.
/// `@unchecked`: the stream is set once in `init`.
package final class SignalWatcher: @unchecked Sendable {
    private let stream: AsyncStream<Int32>

    package init(signals: [Int32]) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { fatalError("cannot create the signal pipe: errno \(errno)") }
        signalPipeWriteEnd = fds[1]
        var continuation: AsyncStream<Int32>.Continuation!
        self.stream = AsyncStream { continuation = $0 }
        let yield = continuation!
        let readEnd = fds[0]
        let reader = Thread {
            var byte: UInt8 = 0
            while read(readEnd, &byte, 1) == 1 { yield.yield(Int32(byte)) }
        }
        reader.name = "signal-watcher"
        reader.start()
        for number in signals { _ = signal(number, writeSignalToPipe) }
    }

    /// The next signal received.
    package func next() async -> Int32 {
        for await number in self.stream { return number }
        return 0
    }
}

/// Where the handler writes; set before any handler is installed.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// The signal handler: one byte per signal, nothing that is not async-signal-safe.
private func writeSignalToPipe(_ number: Int32) {
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipeWriteEnd, &byte, 1)
}
