import Synchronization

/// Metadata a handler attaches to its reply: initial headers and trailers, and whether the reply
/// should be compressed. Shared between the handler's task and the transport, hence the lock.
package final class ResponseMetadata: Sendable {
    private struct State {
        var headers = Metadata()
        var trailers = Metadata()
        var compress = false
    }

    /// Held in the object itself: one allocation per call, not two.
    private let state = Mutex(State())

    package init() {}

    /// Sent with the response headers (before the first message).
    package var headers: Metadata {
        get { self.state.withLock { $0.headers } }
        set { self.state.withLock { $0.headers = newValue } }
    }

    /// Sent with the trailers, after the last message.
    package var trailers: Metadata {
        get { self.state.withLock { $0.trailers } }
        set { self.state.withLock { $0.trailers = newValue } }
    }

    /// Asks the transport to compress response messages, if the client accepts a compression.
    package var compress: Bool {
        get { self.state.withLock { $0.compress } }
        set { self.state.withLock { $0.compress = newValue } }
    }
}
