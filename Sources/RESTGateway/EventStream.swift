import AsyncAlgorithms
import HTTPMessages
import ProtoJSON
import RPCCore
import ServiceErrors

/// Serves a server-streaming RPC as Server-Sent Events: one `data:` event per message (its JSON),
/// numbered with `id:`, and a comment every 15 s so proxies keep the connection open.
///
/// Messages pass from the call to the response through a channel that holds none: the call's
/// `send` waits until the body writer took the previous one, and the writer waits for the client
/// (transport backpressure). A subscriber that does not read stops its call, and whatever the
/// call's source does with events meanwhile (the session events keep the newest few) is the
/// only buffer.
enum EventStream {
    static let heartbeatInterval: Duration = .seconds(15)

    private enum Item: Sendable {
        case message([UInt8])
        case heartbeat
    }

    /// Waits for the first message so a failing call (e.g. NOT_FOUND) is an ordinary error reply,
    /// then streams the rest.
    static func respond(
        _ binding: HTTPBinding,
        request: [UInt8],
        channel: any RPCChannel,
        options: CallOptions,
        headers: [(name: String, value: String)]
    ) async throws -> HTTPResponse {
        let items = AsyncThrowingChannel<Item, any Error>()
        let call = Task {
            do {
                try await channel.serverStreaming(binding.route.rpc, request: request, options: options) { bytes in
                    await items.send(.message(bytes))
                    try Task.checkCancellation()
                }
                items.finish()
            } catch {
                items.fail(error)
            }
        }
        let iterator = SharedIterator(items.makeAsyncIterator())
        let first: Item?
        do {
            first = try await iterator.next()
        } catch {
            call.cancel()
            throw error
        }
        let stream = HTTPBodyStream({ write in
            let heartbeat = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.heartbeatInterval)
                    await items.send(.heartbeat)
                }
            }
            defer {
                call.cancel()
                heartbeat.cancel()
            }
            try await withTaskCancellationHandler {
                var eventID = 0
                var next = first
                while let item = next {
                    switch item {
                    case .message(let bytes):
                        eventID += 1
                        var event = Array("id: \(eventID)\ndata: ".utf8)
                        event += try binding.response(bytes).jsonBytes()
                        event += Array("\n\n".utf8)
                        try await write(event)
                    case .heartbeat:
                        try await write(Array(": keep-alive\n\n".utf8))
                    }
                    next = try await iterator.next()
                }
            } onCancel: {
                call.cancel()
            }
        }, abandon: { call.cancel() })
        return HTTPResponse(
            status: 200,
            headers: headers + [("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-store")],
            stream: stream
        )
    }

    /// The stream's iterator, handed from the request task to the body task: used by one task
    /// at a time, never concurrently.
    private final class SharedIterator: @unchecked Sendable {
        private var base: AsyncThrowingChannel<Item, any Error>.AsyncIterator

        init(_ base: AsyncThrowingChannel<Item, any Error>.AsyncIterator) {
            self.base = base
        }

        func next() async throws -> Item? {
            try await self.base.next()
        }
    }
}
