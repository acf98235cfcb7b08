import Synchronization

/// Request IDs (`X-Request-Id`): a client's own when well-formed, else generated: a random
/// per-process prefix and a counter, 32 hex digits; unique without asking the kernel for
/// randomness on every request.
package enum RequestIDs {
    private static let prefix = String(UInt64.random(in: .min ... .max) | 1 << 63, radix: 16)
    private static let counter = Atomic<UInt64>(0)

    /// A client's `X-Request-Id` when it is 1–128 visible ASCII characters, else a fresh one.
    package static func requestID(_ given: String?) -> String {
        if let given, (1...128).contains(given.utf8.count), given.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            return given
        }
        return Self.next()
    }

    package static func next() -> String {
        let number = Self.counter.add(1, ordering: .relaxed).newValue
        let prefix = Self.prefix.utf8
        return String(unsafeUninitializedCapacity: prefix.count + 16) { buffer in
            var index = buffer.initialize(fromContentsOf: prefix)
            for shift in stride(from: 60, through: 0, by: -4) {
                buffer[index] = Self.hexDigits[Int(number >> UInt64(shift) & 0xF)]
                index += 1
            }
            return index
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
