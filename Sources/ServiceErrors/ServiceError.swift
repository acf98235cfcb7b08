/// The one error type that may reach a client, over gRPC or REST.
///
/// `message` is shown to the client; `cause` is for logs only and is never sent.
package struct ServiceError: Error, Sendable, CustomStringConvertible {
    package var code: Code
    package var message: String
    /// Per-field problems for `invalidArgument` (sent as google.rpc.BadRequest / REST `details`).
    package var fieldViolations: [FieldViolation]
    package var cause: (any Error)?

    package init(_ code: Code, _ message: String, fieldViolations: [FieldViolation] = [], cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.fieldViolations = fieldViolations
        self.cause = cause
    }

    /// Any error as a client sees it: a `ServiceError` as it is, a cancelled task as `cancelled`,
    /// anything else as `internal` with a generic message (the error stays as the logged cause).
    package init(wrapping error: any Error) {
        if let error = error as? ServiceError {
            self = error
        } else if error is CancellationError {
            self.init(.cancelled, "the call was cancelled")
        } else {
            self.init(.internal, "internal error", cause: error)
        }
    }

    /// An `invalidArgument` error naming one field.
    package static func invalidField(_ field: String, _ description: String) -> ServiceError {
        ServiceError(
            .invalidArgument,
            "\(field): \(description)",
            fieldViolations: [FieldViolation(field: field, description: description)]
        )
    }

    package var description: String { "\(self.code.name): \(self.message)" }
}

/// One invalid field in a request, named as it is on the wire (`rating`, `notes[2].content`).
package struct FieldViolation: Sendable, Hashable {
    package var field: String
    package var description: String

    package init(field: String, description: String) {
        self.field = field
        self.description = description
    }
}
