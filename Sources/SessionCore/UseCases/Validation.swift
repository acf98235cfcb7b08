import ServiceErrors

/// Field rules shared by the use cases. Field names are the API's JSON names; lengths count
/// Unicode scalars.
enum Validation {
    /// IDs supplied by clients (job and tester IDs): 1–128 characters from A–Z, a–z, 0–9 and
    /// `._:@-` (the pattern the schema documents).
    static func identifier(_ value: String, field: String) throws(ServiceError) {
        let bytes = value.utf8
        guard !bytes.isEmpty else { throw ServiceError.invalidField(field, "is required") }
        guard bytes.count <= 128 else { throw ServiceError.invalidField(field, "must be at most 128 characters") }
        let allowed = bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
        guard allowed else { throw ServiceError.invalidField(field, "must contain only A-Z, a-z, 0-9 and ._:@-") }
    }

    static func score(_ value: Int32?, field: String) throws(ServiceError) -> Int {
        guard let value else { throw ServiceError.invalidField(field, "is required") }
        guard (1...5).contains(value) else { throw ServiceError.invalidField(field, "must be between 1 and 5") }
        return Int(value)
    }

    static func text(_ value: String, field: String, maximum: Int, required: Bool = false) throws(ServiceError) {
        let count = value.unicodeScalars.count
        if required && count == 0 { throw ServiceError.invalidField(field, "must not be empty") }
        if count > maximum { throw ServiceError.invalidField(field, "must be at most \(maximum) characters") }
    }
}

/// Runs every field rule of a request and reports all that fail in one `invalidArgument` error
/// (one violation per field, the message listing them in order), not just the first.
struct FieldChecks {
    private var violations: [FieldViolation] = []

    /// Runs `rule`, keeping its violations; returns its result, or nil when it failed.
    @discardableResult
    mutating func check<Value>(_ rule: () throws(ServiceError) -> Value) -> Value? {
        do {
            return try rule()
        } catch {
            self.violations += error.fieldViolations.isEmpty
                ? [FieldViolation(field: "", description: error.message)] : error.fieldViolations
            return nil
        }
    }

    /// Throws the collected violations, if any.
    func finish() throws(ServiceError) {
        guard !self.violations.isEmpty else { return }
        throw ServiceError(
            .invalidArgument,
            self.violations.map { $0.field.isEmpty ? $0.description : "\($0.field): \($0.description)" }
                .joined(separator: "; "),
            fieldViolations: self.violations
        )
    }
}
