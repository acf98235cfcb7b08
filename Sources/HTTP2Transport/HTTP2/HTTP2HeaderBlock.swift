private import CNghttp2

/// A header list laid out the way nghttp2 reads it: the `nghttp2_nv` entries and the bytes they
/// point to, in one allocation, immutable once built.
///
/// Lists that never change (gRPC's response headers, `grpc-status: 0`) are built once and
/// submitted by pointer with nghttp2's no-copy flags; per-response lists cost one block instead
/// of an array per field.
final class HTTP2HeaderBlock: @unchecked Sendable {  // immutable after init
    let count: Int
    private let storage: UnsafeMutableRawPointer

    /// - Parameter permanent: the block lives as long as the process (a `static let`), so nghttp2
    ///   may point into it instead of copying.
    init(_ fields: [(name: String, value: String)], permanent: Bool = false) {
        self.count = fields.count
        let entries = fields.count * MemoryLayout<nghttp2_nv>.stride
        let bytes = fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        self.storage = .allocate(byteCount: max(1, entries + bytes), alignment: MemoryLayout<nghttp2_nv>.alignment)
        let nva = self.storage.bindMemory(to: nghttp2_nv.self, capacity: fields.count)
        var cursor = (self.storage + entries).bindMemory(to: UInt8.self, capacity: bytes)
        let flags = permanent ? NGHTTP2_NV_FLAG_NO_COPY_NAME.rawValue | NGHTTP2_NV_FLAG_NO_COPY_VALUE.rawValue : 0
        for (index, field) in fields.enumerated() {
            let name = Self.copy(field.name, to: &cursor)
            let value = Self.copy(field.value, to: &cursor)
            (nva + index).initialize(to: nghttp2_nv(
                name: name.start, value: value.start, namelen: name.count, valuelen: value.count, flags: UInt8(flags)
            ))
        }
    }

    deinit {
        self.storage.deallocate()
    }

    /// The `nghttp2_nv` array, for the submit calls in `HTTP2Session` (typed there).
    var entries: UnsafeMutableRawPointer { self.storage }

    private static func copy(_ text: String, to cursor: inout UnsafeMutablePointer<UInt8>) -> (start: UnsafeMutablePointer<UInt8>, count: Int) {
        let start = cursor
        var text = text
        let count = text.withUTF8 { utf8 in
            if let base = utf8.baseAddress { start.initialize(from: base, count: utf8.count) }
            return utf8.count
        }
        cursor += count
        return (start, count)
    }
}
