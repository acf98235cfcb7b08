import Foundation
import RPCCore
import ServiceErrors
import NIOConcurrencyHelpers

/// `grpc.health.v1.Health`: the server's status ("") and each registered service's.
package final class HealthService: HealthProvider {
    package typealias Status = HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status] = ["": .serving]
        var watchers: [UUID: (service: String, continuation: AsyncStream<Status>.Continuation)] = [:]
    }

    private let state = NIOLockedValueBox(State())

    package init(services: [String] = []) {
        self.state.withLockedValue { state in
            for service in services { state.statuses[service] = .serving }
        }
    }

    /// Sets a status and tells every watcher of that service.
    package func setStatus(_ status: Status, for service: String) {
        let watchers = self.state.withLockedValue { state in
            state.statuses[service] = status
            return state.watchers.values.filter { $0.service == service }.map(\.continuation)
        }
        for watcher in watchers { watcher.yield(status) }
    }

    /// Marks everything NOT_SERVING (on shutdown, so load balancers drain first).
    package func shutDown() {
        let services = self.state.withLockedValue { Array($0.statuses.keys) }
        for service in services { self.setStatus(.notServing, for: service) }
    }

    package func check(_ request: HealthCheckRequest, context: CallContext) async throws -> HealthCheckResponse {
        guard let status = self.state.withLockedValue({ $0.statuses[request.service] }) else {
            throw ServiceError(.notFound, "unknown service '\(request.service)'")
        }
        var response = HealthCheckResponse()
        response.status = status
        return response
    }

    package func watch(
        _ request: HealthCheckRequest,
        responses: RPCResponseWriter<HealthCheckResponse>,
        context: CallContext
    ) async throws {
        let id = UUID()
        let (updates, continuation) = AsyncStream<Status>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let current = self.state.withLockedValue { state in
            state.watchers[id] = (request.service, continuation)
            return state.statuses[request.service] ?? .serviceUnknown
        }
        defer { _ = self.state.withLockedValue { $0.watchers.removeValue(forKey: id) } }
        var last = current
        var response = HealthCheckResponse()
        response.status = current
        try await responses.send(response)
        for await status in updates where status != last {
            last = status
            response.status = status
            try await responses.send(response)
        }
    }
}
