import HTTP2Transport
import ServiceErrors

enum ServiceErrorFixture {
    static let invalid = ServiceError.invalidField("rating", "must be 1–5")

    static func code(_ code: ServiceError.Code) -> ServiceError.Code { code }
}

enum GzipFixture {
    static func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        try Gzip.compress(bytes)
    }
}
