import RPCCore
import ServiceErrors

/// gRPC server reflection (`grpc.reflection.v1`, and `v1alpha`, whose messages are identical on
/// the wire), serving the schema files' descriptors so tools like grpcurl need no .proto files.
package struct ReflectionService: ServerReflectionProvider {
    private let files: [String: SchemaFileDescriptor]
    private let services: [String]

    /// `files` are every descriptor to serve; `services` the names `list_services` reports.
    package init(files: [SchemaFileDescriptor], services: [String]) {
        var byName: [String: SchemaFileDescriptor] = [:]
        for file in files { byName[file.name] = file }
        self.files = byName
        self.services = services.sorted()
    }

    /// Routes for both protocol versions.
    package var allRoutes: [RPCRoute] {
        let v1 = self.routes
        let v1alpha = v1.map { route in
            var method = route.method
            method.service = "grpc.reflection.v1alpha.ServerReflection"
            return RPCRoute(method: method, handler: route.handler)
        }
        return v1 + v1alpha
    }

    package func serverReflectionInfo(
        _ requests: RPCRequestStream<ServerReflectionRequest>,
        responses: RPCResponseWriter<ServerReflectionResponse>,
        context: CallContext
    ) async throws {
        for try await request in requests {
            try await responses.send(self.answer(request))
        }
    }

    func answer(_ request: ServerReflectionRequest) -> ServerReflectionResponse {
        var response = ServerReflectionResponse()
        response.validHost = request.host
        response.originalRequest = request
        switch request.messageRequest {
        case .listServices:
            var list = ListServiceResponse()
            list.service = self.services.map { name in
                var service = ServiceResponse()
                service.name = name
                return service
            }
            response.messageResponse = .listServicesResponse(list)
        case .fileByFilename(let name):
            response.messageResponse = self.files[name].map { .fileDescriptorResponse(self.closure(of: $0)) }
                ?? Self.error(.notFound, "unknown file '\(name)'")
        case .fileContainingSymbol(let symbol):
            response.messageResponse = self.file(containing: symbol).map { .fileDescriptorResponse(self.closure(of: $0)) }
                ?? Self.error(.notFound, "unknown symbol '\(symbol)'")
        case .fileContainingExtension(let request):
            let wanted = SchemaFileDescriptor.Extension(
                extendee: Self.fullName(request.containingType),
                number: request.extensionNumber
            )
            response.messageResponse = self.files.values.first { $0.extensions.contains(wanted) }
                .map { .fileDescriptorResponse(self.closure(of: $0)) }
                ?? Self.error(.notFound, "no extension \(request.extensionNumber) of \(request.containingType) is served")
        case .allExtensionNumbersOfType(let type):
            let name = Self.fullName(type)
            if self.file(containing: name) == nil {
                response.messageResponse = Self.error(.notFound, "unknown type '\(type)'")
            } else {
                var numbers = ExtensionNumberResponse()
                numbers.baseTypeName = name
                numbers.extensionNumber = self.files.values.flatMap(\.extensions).filter { $0.extendee == name }
                    .map(\.number).sorted()
                response.messageResponse = .allExtensionNumbersResponse(numbers)
            }
        case nil:
            response.messageResponse = Self.error(.invalidArgument, "empty reflection request")
        }
        return response
    }

    private static func fullName(_ symbol: String) -> String {
        symbol.hasPrefix(".") ? String(symbol.dropFirst()) : symbol
    }

    /// A symbol's file; a field or method name falls back to its parent's.
    private func file(containing symbol: String) -> SchemaFileDescriptor? {
        var name = symbol.hasPrefix(".") ? String(symbol.dropFirst()) : symbol
        while !name.isEmpty {
            if let file = self.files.values.first(where: { $0.symbols.contains(name) }) { return file }
            guard let dot = name.lastIndex(of: ".") else { return nil }
            name = String(name[..<dot])
        }
        return nil
    }

    /// The file first, then its dependencies (transitively) that are served.
    private func closure(of file: SchemaFileDescriptor) -> FileDescriptorResponse {
        var seen: Set<String> = [file.name]
        var ordered = [file]
        var index = 0
        while index < ordered.count {
            for dependency in ordered[index].dependencies where !seen.contains(dependency) {
                seen.insert(dependency)
                if let next = self.files[dependency] { ordered.append(next) }
            }
            index += 1
        }
        var response = FileDescriptorResponse()
        response.fileDescriptorProto = ordered.map(\.serialized)
        return response
    }

    private static func error(_ code: ServiceError.Code, _ message: String) -> ServerReflectionResponse.MessageResponse {
        var error = ErrorResponse()
        error.errorCode = Int32(code.rawValue)
        error.errorMessage = message
        return .errorResponse(error)
    }
}
