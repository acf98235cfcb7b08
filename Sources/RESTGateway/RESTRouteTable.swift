import ProtoJSON
import RPCCore

/// The gateway's routes, compiled from the generated bindings' path templates.
struct RESTRouteTable: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        /// A `{field}` segment: the request field it binds.
        case parameter(JSONFieldName)
    }

    /// A class, so matching does not copy (and retain) each entry's parts.
    final class Entry: Sendable {
        let segments: [Segment]
        let binding: HTTPBinding

        init(segments: [Segment], binding: HTTPBinding) {
            self.segments = segments
            self.binding = binding
        }
    }

    enum Match {
        case found(HTTPBinding, parameters: [(field: JSONFieldName, value: String)])
        /// The path exists, but not for this method.
        case wrongMethod(allowed: [String])
        case notFound
    }

    private let entries: [Entry]

    init(_ bindings: [HTTPBinding]) {
        self.entries = bindings.map { binding in
            let segments = binding.route.pathTemplate.split(separator: "/").map { part -> Segment in
                guard part.hasPrefix("{"), part.hasSuffix("}") else { return .literal(String(part)) }
                let name = String(part.dropFirst().dropLast())
                let field = binding.requestFields.first { $0.protoName == name }
                    ?? JSONFieldName(number: 0, protoName: name, jsonName: name)
                return .parameter(field)
            }
            return Entry(segments: segments, binding: binding)
        }
    }

    /// Finds the route for decoded path segments (empty segments never match a parameter).
    func match(method: String, segments: [String]) -> Match {
        var allowed: [String] = []
        for entry in self.entries where entry.segments.count == segments.count {
            var parameters: [(field: JSONFieldName, value: String)] = []
            var matches = true
            for (segment, value) in zip(entry.segments, segments) {
                switch segment {
                case .literal(let text): matches = text == value
                case .parameter(let field):
                    matches = !value.isEmpty
                    parameters.append((field, value))
                }
                if !matches { break }
            }
            guard matches else { continue }
            if entry.binding.route.method == method { return .found(entry.binding, parameters: parameters) }
            allowed.append(entry.binding.route.method)
        }
        return allowed.isEmpty ? .notFound : .wrongMethod(allowed: allowed)
    }

    /// The GET route that reads back what a create route made (`/api/sessions` → `/api/sessions/{session_id}`).
    func readRoute(under template: String) -> (template: String, field: String)? {
        for entry in self.entries where entry.binding.route.method == "GET" {
            let path = entry.binding.route.pathTemplate
            guard path.hasPrefix(template + "/{"), path.hasSuffix("}"),
                !path.dropFirst(template.count + 2).contains("/")
            else { continue }
            return (path, String(path.dropFirst(template.count + 2).dropLast()))
        }
        return nil
    }
}
