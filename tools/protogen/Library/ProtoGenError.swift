/// A problem in a .proto file (or in generation), with the place it was found.
public struct ProtoGenError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    init(_ message: String, at location: SourceLocation) {
        self.file = location.file
        self.line = location.line
        self.column = location.column
        self.message = message
    }

    init(_ message: String, file: String) {
        self.file = file
        self.line = 0
        self.column = 0
        self.message = message
    }

    public var description: String {
        self.line > 0 ? "\(self.file):\(self.line):\(self.column): \(self.message)" : "\(self.file): \(self.message)"
    }
}

/// Where a token starts in a .proto file.
struct SourceLocation: Sendable {
    var file: String
    var line: Int
    var column: Int
}
