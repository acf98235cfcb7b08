import Foundation
import ServiceErrors

/// How both stores keep an analysis: one JSON document, keys sorted.
extension Analysis {
    package func storedJSON() throws(ServiceError) -> String {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        } catch {
            throw ServiceError(.internal, "cannot encode the analysis", cause: error)
        }
    }

    package init(storedJSON body: String) throws(ServiceError) {
        do {
            self = try JSONDecoder().decode(Analysis.self, from: Data(body.utf8))
        } catch {
            throw ServiceError(.dataLoss, "a stored analysis cannot be read", cause: error)
        }
    }
}
