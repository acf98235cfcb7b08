import Foundation

/// Makes prefixed, unguessable, time-sortable IDs: `sess_` + 26 Crockford base32 characters
/// encoding 48 bits of milliseconds and 80 random bits (the layout of a ULID).
package final class IDGenerator: Sendable {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    private let clock: any WallClock

    package init(clock: any WallClock) {
        self.clock = clock
    }

    package func make(_ prefix: String) -> String {
        let millis = UInt64(max(0, self.clock.now.timeIntervalSince1970 * 1000))
        var bytes = (0..<6).reversed().map { UInt8(truncatingIfNeeded: millis >> (8 * UInt64($0))) }
        // Two draws from the system generator (getrandom), not one per byte: each is a syscall.
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt16
        bytes += (0..<8).reversed().map { UInt8(truncatingIfNeeded: high >> (8 * UInt64($0))) }
        bytes += [UInt8(truncatingIfNeeded: low >> 8), UInt8(truncatingIfNeeded: low)]
        // 26 characters carry 130 bits: two zero bits, then the 128 bits of `bytes`.
        var characters: [UInt8] = []
        characters.reserveCapacity(26)
        for index in 0..<26 {
            var value = 0
            for bit in (index * 5 - 2)..<(index * 5 + 3) {
                let set = bit >= 0 && bytes[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0
                value = value << 1 | (set ? 1 : 0)
            }
            characters.append(Self.alphabet[value])
        }
        return prefix + "_" + String(decoding: characters, as: UTF8.self)
    }
}
