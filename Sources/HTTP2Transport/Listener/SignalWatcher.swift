import Dispatch
import Foundation

/// Turns process signals into an awaitable event.
/// `@unchecked`: the dispatch sources are set once in `init` and only kept alive afterwards.
package final class SignalWatcher: @unchecked Sendable {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    package init(signals: [Int32]) {
        var continuation: AsyncStream<Int32>.Continuation!
        self.stream = AsyncStream { continuation = $0 }
        let yield = continuation!
        self.sources = signals.map { number in
            signal(number, SIG_IGN)  // let the dispatch source see it instead of the default action
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { yield.yield(number) }
            source.resume()
            return source
        }
    }

    /// The next signal received.
    package func next() async -> Int32 {
        for await number in self.stream { return number }
        return 0
    }
}
