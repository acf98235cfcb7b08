import Foundation
import Logging
import ProtoJSON
import NIOConcurrencyHelpers

/// A swift-log handler that writes one JSON object per line to standard error, for log
/// collectors: `{"time", "level", "label", "message", …metadata}`; metadata values are strings,
/// nested ones flattened to their text. Writes are serialized so lines never interleave.
struct JSONLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    private let label: String
    private static let lock = NIOLockedValueBox(())

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key("time")
        writer.string(Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        writer.key("level")
        writer.string(event.level.rawValue)
        writer.key("label")
        writer.string(self.label)
        writer.key("message")
        writer.string("\(event.message)")
        writer.key("source")
        writer.string(event.source)
        let merged = self.metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() {
            writer.key(key)
            writer.string("\(merged[key]!)")
        }
        writer.endObject()
        let line = Data(writer.bytes + [UInt8(ascii: "\n")])
        Self.lock.withLockedValue { _ in FileHandle.standardError.write(line) }
    }
}
