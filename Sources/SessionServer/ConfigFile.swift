import ArgumentParser
import Foundation

/// `--config FILE`: a JSON object of settings named like the flags, e.g.
/// `{"port": 9000, "max-connections": 5000, "cors-origins": "https://app.example.com", "access-log": true}`.
/// A flag wins over the environment, and the environment over the file: each setting the file
/// has becomes its `SESSIOND_…` variable unless that is already set, and is then checked like
/// every other setting.
enum ConfigFile {
    /// Every setting `serve` takes (the flag names without `--`).
    static let settings: Set<String> = [
        "host", "port", "data-dir", "database-url", "database-timeout", "jwt-secret-file", "jwt-public-keys", "jwks-file",
        "jwt-issuer", "jwt-audience", "tls-cert", "tls-key", "max-connections", "max-connections-per-client",
        "handshake-timeout", "max-buffered-request-bytes", "max-queued-response-bytes", "max-concurrent-streams",
        "max-message-bytes", "idle-timeout", "keepalive-interval", "cors-origins", "upstream", "log-level", "log-format",
        "access-log", "rate-limits", "job-lease",
    ]

    /// The environment variable that stands for a setting.
    static func variable(_ setting: String) -> String {
        "SESSIOND_" + setting.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    static func apply(_ path: String) throws {
        // A regular file of at most 1 MiB: a FIFO or a device would block or never end.
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard attributes?[.type] as? FileAttributeType == .typeRegular else {
            throw ValidationError("--config: \(path) is not a readable regular file")
        }
        guard (attributes?[.size] as? Int ?? 0) <= 1 << 20 else {
            throw ValidationError("--config: \(path) is over 1 MiB")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--config: cannot read \(path)")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ValidationError("--config: \(path) is not a JSON object")
        }
        let unknown = object.keys.filter { !Self.settings.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw ValidationError(
                "--config: \(path): unknown setting\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")) (settings are named like the flags, e.g. max-connections)"
            )
        }
        var problems: [String] = []
        for (setting, value) in object.sorted(by: { $0.key < $1.key }) {
            // JSON's true and false arrive as booleans, numbers as NSNumber (which also casts to Bool).
            let isBoolean = "\(type(of: value))".contains("Boolean") || type(of: value) == Bool.self
            let text: String
            if setting == "access-log" {
                guard isBoolean, let flag = value as? Bool else { problems.append("access-log must be true or false"); continue }
                text = flag ? "1" : "0"
            } else if let string = value as? String {
                text = string
            } else if let number = value as? NSNumber, !isBoolean {
                text = number.stringValue
            } else {
                problems.append("\(setting) must be a string or a number")
                continue
            }
            let name = Self.variable(setting)
            if ProcessInfo.processInfo.environment[name] == nil { setenv(name, text, 1) }
        }
        guard problems.isEmpty else { throw ValidationError("--config: \(path): \(problems.joined(separator: "; "))") }
    }
}
