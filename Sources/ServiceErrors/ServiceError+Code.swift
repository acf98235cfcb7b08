extension ServiceError {
    /// A gRPC status code other than OK; raw values are the gRPC status numbers.
    ///
    /// This enum is the only place the gRPC ⇄ HTTP mapping lives (see README, "Errors").
    package enum Code: Int, Sendable, CaseIterable {
        case cancelled = 1
        case unknown = 2
        case invalidArgument = 3
        case deadlineExceeded = 4
        case notFound = 5
        case alreadyExists = 6
        case permissionDenied = 7
        case resourceExhausted = 8
        case failedPrecondition = 9
        case aborted = 10
        case outOfRange = 11
        case unimplemented = 12
        case `internal` = 13
        case unavailable = 14
        case dataLoss = 15
        case unauthenticated = 16

        /// The canonical upper-case name used in gRPC tooling and in REST error envelopes.
        package var name: String {
            switch self {
            case .cancelled: "CANCELLED"
            case .unknown: "UNKNOWN"
            case .invalidArgument: "INVALID_ARGUMENT"
            case .deadlineExceeded: "DEADLINE_EXCEEDED"
            case .notFound: "NOT_FOUND"
            case .alreadyExists: "ALREADY_EXISTS"
            case .permissionDenied: "PERMISSION_DENIED"
            case .resourceExhausted: "RESOURCE_EXHAUSTED"
            case .failedPrecondition: "FAILED_PRECONDITION"
            case .aborted: "ABORTED"
            case .outOfRange: "OUT_OF_RANGE"
            case .unimplemented: "UNIMPLEMENTED"
            case .internal: "INTERNAL"
            case .unavailable: "UNAVAILABLE"
            case .dataLoss: "DATA_LOSS"
            case .unauthenticated: "UNAUTHENTICATED"
            }
        }

        /// The HTTP status the REST gateway answers with.
        ///
        /// A lifecycle conflict is RFC 9110's 409, deliberately unlike generic transcoders' 400.
        package var httpStatus: Int {
            switch self {
            case .cancelled: 499
            case .unknown: 500
            case .invalidArgument: 400
            case .deadlineExceeded: 504
            case .notFound: 404
            case .alreadyExists: 409
            case .permissionDenied: 403
            case .resourceExhausted: 429
            case .failedPrecondition: 409
            case .aborted: 409
            case .outOfRange: 400
            case .unimplemented: 501
            case .internal: 500
            case .unavailable: 503
            case .dataLoss: 500
            case .unauthenticated: 401
            }
        }

        /// The Connect protocol's name: lower snake case, and `canceled` spelled as Connect does.
        package var connectName: String {
            self == .cancelled ? "canceled" : self.name.lowercased()
        }

        /// The HTTP status of a Connect unary error (the Connect protocol's table: the REST one
        /// except that a failed precondition is 400 there, as in google.rpc.Code).
        package var connectHTTPStatus: Int {
            switch self {
            case .failedPrecondition: 400
            case .cancelled, .unknown, .invalidArgument, .deadlineExceeded, .notFound, .alreadyExists, .permissionDenied,
                .resourceExhausted, .aborted, .outOfRange, .unimplemented, .internal, .unavailable, .dataLoss,
                .unauthenticated:
                self.httpStatus
            }
        }

        /// The code for a gRPC status number; nil for 0 (OK) and numbers gRPC does not define.
        package init?(grpcStatus: Int) {
            self.init(rawValue: grpcStatus)
        }

        /// The code for a canonical name such as `NOT_FOUND`.
        package init?(name: String) {
            guard let code = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = code
        }
    }
}
