import Foundation
import ServiceErrors

/// Where the HMAC secret for tokens comes from (issue: `--jwt-secret-file`, `SESSIOND_JWT_SECRET`,
/// or `<data-dir>/jwt-secret` created on first start).
package enum JWTSecret {
    package enum Source: Sendable, Equatable {
        case file(String)
        case environment
        case created(String)
    }

    /// Reads the secret from `file`, else from `environment`, else from (or into) `dataDirectory`.
    package static func load(
        file: String?,
        environment: [String: String],
        dataDirectory: String,
        createIfMissing: Bool
    ) throws(ServiceError) -> (secret: [UInt8], source: Source) {
        if let file {
            return (try self.read(file), .file(file))
        }
        if let value = environment["SESSIOND_JWT_SECRET"], !value.isEmpty {
            return (Array(value.trimmingCharacters(in: .whitespacesAndNewlines).utf8), .environment)
        }
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("jwt-secret").path
        if FileManager.default.fileExists(atPath: path) {
            return (try self.read(path), .file(path))
        }
        guard createIfMissing else {
            throw ServiceError(
                .failedPrecondition,
                "no JWT secret: pass --jwt-secret-file, set SESSIOND_JWT_SECRET, or start `sessiond serve` once to create \(path)"
            )
        }
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            let secret = HMAC.randomBytes(32).map { String(format: "%02x", $0) }.joined()
            // Create with 0600 from the start so the secret is never readable by others.
            guard FileManager.default.createFile(atPath: path, contents: Data((secret + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
            else {
                throw ServiceError(.internal, "cannot create \(path)")
            }
            return (Array(secret.utf8), .created(path))
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError(.internal, "cannot create \(path): \(error)", cause: error)
        }
    }

    private static func read(_ path: String) throws(ServiceError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServiceError(.failedPrecondition, "cannot read JWT secret file \(path)")
        }
        let trimmed = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw ServiceError(.failedPrecondition, "JWT secret file \(path) is empty")
        }
        return Array(trimmed.utf8)
    }
}
