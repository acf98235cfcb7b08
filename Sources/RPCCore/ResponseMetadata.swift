import NIOConcurrencyHelpers

/// Metadata a handler attaches to its reply: initial headers and trailers, and whether the reply
/// should be compressed. Shared between the handler's task and the transport, hence the lock.
package final class ResponseMetadata: Sendable {
    private struct State {
        var headers = Metadata()
        var trailers = Metadata()
        var compress = false
    }

    private let state = NIOLockedValueBox(State())

    package init() {}

    /// Sent with the response headers (before the first message).
    package var headers: Metadata {
        get { self.state.withLockedValue { $0.headers } }
        set { self.state.withLockedValue { $0.headers = newValue } }
    }

    /// Sent with the trailers, after the last message.
    package var trailers: Metadata {
        get { self.state.withLockedValue { $0.trailers } }
        set { self.state.withLockedValue { $0.trailers = newValue } }
    }

    /// Asks the transport to compress response messages, if the client accepts a compression.
    package var compress: Bool {
        get { self.state.withLockedValue { $0.compress } }
        set { self.state.withLockedValue { $0.compress = newValue } }
    }
}
