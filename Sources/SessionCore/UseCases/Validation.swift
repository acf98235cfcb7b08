import ServiceErrors

/// Field rules shared by the use cases. Field names are the API's JSON names; lengths count
/// Unicode scalars.
enum Validation {
    /// IDs supplied by clients (job and tester IDs): 1–128 printable characters, no spaces.
    static func identifier(_ value: String, field: String) throws(ServiceError) {
        let scalars = value.unicodeScalars
        guard !scalars.isEmpty else { throw ServiceError.invalidField(field, "is required") }
        guard scalars.count <= 128 else { throw ServiceError.invalidField(field, "must be at most 128 characters") }
        for scalar in scalars {
            if scalar.properties.isWhitespace { throw ServiceError.invalidField(field, "must not contain spaces") }
            switch scalar.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
                throw ServiceError.invalidField(field, "must contain only printable characters")
            default:
                continue
            }
        }
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
