/// gRPC custom metadata: ordered key/value pairs with lower-case keys.
///
/// Keys ending in `-bin` carry binary values (base64 on the wire); all others carry ASCII text.
package struct Metadata: Sendable, Hashable, Sequence {
    package enum Value: Sendable, Hashable {
        case text(String)
        case binary([UInt8])
    }

    package private(set) var entries: [(key: String, value: Value)] = []

    package init() {}

    /// Room for `capacity` entries, so adding them allocates once.
    package init(capacity: Int) {
        self.entries.reserveCapacity(capacity)
    }

    package init(_ pairs: [(String, String)]) {
        for (key, value) in pairs { self.add(key, value) }
    }

    package mutating func add(_ key: String, _ value: String) {
        self.entries.append((key.asciiLowercased, .text(value)))
    }

    package mutating func add(_ key: String, binary value: [UInt8]) {
        self.entries.append((key.asciiLowercased, .binary(value)))
    }


    package mutating func removeAll(_ key: String) {
        let key = key.asciiLowercased
        self.entries.removeAll { $0.key == key }
    }

    /// The first text value for `key`.
    package subscript(_ key: String) -> String? {
        let key = key.asciiLowercased
        for entry in self.entries where entry.key == key {
            if case .text(let text) = entry.value { return text }
        }
        return nil
    }

    /// The first binary value for `key` (which should end in `-bin`).
    package func binary(_ key: String) -> [UInt8]? {
        let key = key.asciiLowercased
        for entry in self.entries where entry.key == key {
            if case .binary(let bytes) = entry.value { return bytes }
        }
        return nil
    }

    package var isEmpty: Bool { self.entries.isEmpty }

    package func makeIterator() -> IndexingIterator<[(key: String, value: Value)]> {
        self.entries.makeIterator()
    }

    package static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }

    package func hash(into hasher: inout Hasher) {
        for entry in self.entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }
}

extension String {
    /// Lower case for ASCII names (header and metadata keys). Most arrive lower-case already
    /// (HTTP/2 requires it), so that is checked first and the string kept as it is.
    package var asciiLowercased: String {
        // Over the contiguous bytes (`withUTF8`, as `ProtoReader.readString` reads them): through
        // `String.UTF8View`'s indices the check was 0.6–0.7 % of a call (every metadata key
        // passes here).
        var name = self
        return name.withUTF8 { bytes in
            guard bytes.contains(where: { (0x41...0x5A).contains($0) }) else { return self }
            // Written in place: a name of up to 15 bytes (`Host`, `Authorization`) becomes a small
            // string with no allocation at all, a longer one takes one.
            return String(unsafeUninitializedCapacity: bytes.count) { buffer in
                for (index, byte) in bytes.enumerated() {
                    buffer[index] = (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
                }
                return bytes.count
            }
        }
    }
}
