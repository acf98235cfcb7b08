import HTTPMessages

/// The path segments and query parameters of a request target, percent-decoded.
struct RequestTarget {
    var segments: [String] = []
    var query: [(name: String, value: String)] = []
    /// Set when a segment or parameter is not valid percent-encoded UTF-8.
    var malformed = false

    init(_ target: String) {
        var target = target
        target.withUTF8 { self.parse($0) }
    }

    /// Over the target's bytes: the delimiters are ASCII, and this runs on every request.
    private mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>) {
        let pathEnd = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex
        // The segments after each "/" (the text before the first "/" is not a segment).
        if var start = bytes[..<pathEnd].firstIndex(of: UInt8(ascii: "/")).map({ $0 + 1 }) {
            self.segments.reserveCapacity(4)
            while true {
                let end = bytes[start..<pathEnd].firstIndex(of: UInt8(ascii: "/")) ?? pathEnd
                self.segments.append(self.decoded(bytes[start..<end]))
                guard end < pathEnd else { break }
                start = end + 1
            }
            // `/api/sessions/` is `/api/sessions`.
            if self.segments.count > 1, self.segments.last == "" { self.segments.removeLast() }
        }
        guard pathEnd < bytes.endIndex else { return }
        for pair in bytes[(pathEnd + 1)...].split(separator: UInt8(ascii: "&")) {
            let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            guard let name = PercentDecoding.text(pair[..<equals], plusIsSpace: true),
                let value = PercentDecoding.text(pair[min(equals + 1, pair.endIndex)...], plusIsSpace: true)
            else {
                self.malformed = true
                continue
            }
            self.query.append((name, value))
        }
    }

    /// A decoded path segment; "" (and `malformed` set) when it is not valid.
    private mutating func decoded(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        guard let text = PercentDecoding.text(bytes, plusIsSpace: false) else {
            self.malformed = true
            return ""
        }
        return text
    }
}
