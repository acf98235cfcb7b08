import ArgumentParser
import Foundation

/// Everything `serve` needs, resolved from flags and environment in one place.
struct ServerConfiguration: Sendable {
    var host: String
    var port: Int
    var dataDirectory: String
    var databaseURL: String?
    var jwtSecretFile: String?
    var tlsCertificate: String?
    var tlsKey: String?
    /// Browser origins allowed by CORS (`*` for any); empty: CORS off.
    var corsOrigins: [String] = []
    /// `host:port` of a remote sessiond: serve only the REST gateway and forward to it.
    var upstream: (host: String, port: Int)?
}

/// Reads an option's fallback from the environment, with a clear error for bad values.
enum EnvironmentValue {
    static func string(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    static func integer(_ name: String) throws -> Int? {
        guard let text = self.string(name) else { return nil }
        guard let value = Int(text) else {
            throw ValidationError("\(name) must be an integer, not '\(text)'")
        }
        return value
    }

    /// An integer setting from the environment, with the flag it stands for and its range named
    /// when it is not one.
    static func integer(_ name: String, flag: String, range: ClosedRange<Int>) throws -> Int? {
        guard let text = self.string(name) else { return nil }
        guard let value = Int(text) else {
            throw ValidationError(
                "\(name) (--\(flag)) must be an integer between \(range.lowerBound) and \(range.upperBound), not '\(text)'"
            )
        }
        return value
    }
}
