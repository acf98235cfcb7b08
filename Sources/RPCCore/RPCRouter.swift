import ServiceErrors

/// Finds the route for a request path.
///
/// Built once at start-up and read-only afterwards, so lookups need no lock.
package struct RPCRouter: Sendable {
    private var routesByPath: [String: RPCRoute] = [:]
    private var services: Set<String> = []

    package init(routes: [RPCRoute] = []) {
        for route in routes { self.register(route) }
    }

    package mutating func register(_ route: RPCRoute) {
        self.routesByPath[route.method.path] = route
        self.services.insert(route.method.service)
    }

    package mutating func register(_ routes: [RPCRoute]) {
        for route in routes { self.register(route) }
    }

    /// Every registered method.
    package var methods: [RPCMethod] { self.routesByPath.values.map(\.method) }

    /// Fully qualified names of every registered service.
    package var serviceNames: [String] { self.services.sorted() }

    /// The route for a `:path` such as `/sessions.v1.SessionService/GetSession`.
    ///
    /// Throws `unimplemented` naming the unknown service or method, as gRPC clients expect.
    package func route(forPath path: String) throws(ServiceError) -> RPCRoute {
        if let route = self.routesByPath[path] { return route }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else {
            throw ServiceError(.unimplemented, "malformed method path '\(path)'")
        }
        if !self.services.contains(String(parts[1])) {
            throw ServiceError(.unimplemented, "unknown service \(parts[1])")
        }
        throw ServiceError(.unimplemented, "unknown method \(parts[2]) in service \(parts[1])")
    }
}
