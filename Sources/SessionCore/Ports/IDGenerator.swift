import Foundation

/// Makes prefixed, unguessable, time-sortable IDs: `sess_` + 26 Crockford base32 characters
/// encoding 48 bits of milliseconds and 80 random bits (the layout of a ULID).
package final class IDGenerator: Sendable {
    private static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    private let clock: any WallClock

    package init(clock: any WallClock) {
        self.clock = clock
    }

    package func make(_ prefix: String) -> String {
        let millis = UInt64(max(0, self.clock.now.timeIntervalSince1970 * 1000))
        // Two draws from the system generator (getrandom), not one per byte: each is a syscall.
        var generator = SystemRandomNumberGenerator()
        return Self.encode(prefix, millis: millis, random: (generator.next(), generator.next()))
    }

    /// `prefix_` and the 26 characters for 48 bits of `millis` followed by the 80 bits of
    /// `random` (all of `.0`, then `.1`): 130 bits, five per character, the first two zero.
    package static func encode(_ prefix: String, millis: UInt64, random: (UInt64, UInt16)) -> String {
        let value = UInt128(millis & 0xFFFF_FFFF_FFFF) << 80 | UInt128(random.0) << 16 | UInt128(random.1)
        let head = prefix.utf8
        return String(unsafeUninitializedCapacity: head.count + 27) { buffer in
            var index = buffer.initialize(fromContentsOf: head)
            buffer[index] = UInt8(ascii: "_")
            index += 1
            for shift in stride(from: 125, through: 0, by: -5) {
                buffer[index] = Self.alphabet[Int(truncatingIfNeeded: value >> UInt128(shift)) & 31]
                index += 1
            }
            return index
        }
    }
}

extension IDGenerator {
    /// An ID for this process as the owner of job leases: host, process ID and a random part, so
    /// a restarted process is a new owner and never mistakes its predecessor's leases for its own.
    package static func instanceID() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-"
            + String(UInt32.random(in: .min ... .max), radix: 36)
    }
}
