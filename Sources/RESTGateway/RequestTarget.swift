/// The path segments and query parameters of a request target, percent-decoded.
struct RequestTarget {
    var segments: [String]
    var query: [(name: String, value: String)]
    /// Set when a segment or parameter is not valid percent-encoded UTF-8.
    var malformed = false

    init(_ target: String) {
        // Byte-level scanning: the delimiters are ASCII, and Character-level work on every
        // request's path would cost more than the rest of the parse.
        let utf8 = target.utf8
        let pathEnd = utf8.firstIndex(of: UInt8(ascii: "?")) ?? utf8.endIndex
        var malformed = false
        // The segments after each "/" (the text before the first "/" is not a segment).
        var segments: [String] = []
        var start = utf8.firstIndex(of: UInt8(ascii: "/")).map { utf8.index(after: $0) }
        while let segmentStart = start, segmentStart <= pathEnd {
            let end = utf8[segmentStart..<pathEnd].firstIndex(of: UInt8(ascii: "/")) ?? pathEnd
            if let decoded = Self.percentDecoded(Substring(utf8[segmentStart..<end]), plusIsSpace: false) {
                segments.append(decoded)
            } else {
                malformed = true
                segments.append("")
            }
            start = end < pathEnd ? utf8.index(after: end) : nil
        }
        // `/api/sessions/` is `/api/sessions`.
        if segments.count > 1, segments.last == "" { segments.removeLast() }
        self.segments = segments
        self.query = []
        if pathEnd < utf8.endIndex {
            for pair in utf8[utf8.index(after: pathEnd)...].split(separator: UInt8(ascii: "&")) where !pair.isEmpty {
                let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = Self.percentDecoded(Substring(parts[0]), plusIsSpace: true),
                    let value = Self.percentDecoded(parts.count > 1 ? Substring(parts[1]) : "", plusIsSpace: true)
                else {
                    malformed = true
                    continue
                }
                self.query.append((name, value))
            }
        }
        self.malformed = malformed
    }

    /// RFC 3986 percent-decoding (and `+` as space in query strings); nil for bad escapes or
    /// bytes that are not UTF-8.
    static func percentDecoded(_ text: Substring, plusIsSpace: Bool) -> String? {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(text)
        }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        func hex(_ byte: UInt8?) -> UInt8? {
            switch byte {
            case .some(let b) where (0x30...0x39).contains(b): b - 0x30
            case .some(let b) where (0x41...0x46).contains(b): b - 0x41 + 10
            case .some(let b) where (0x61...0x66).contains(b): b - 0x61 + 10
            default: nil
            }
        }
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = hex(iterator.next()), let low = hex(iterator.next()) else { return nil }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
