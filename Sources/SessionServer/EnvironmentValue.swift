import ArgumentParser
import Foundation

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
