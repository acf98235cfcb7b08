import Foundation
import SessionCore
import Testing

@Suite("IDGenerator")
struct IDGeneratorTests {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// The layout spelled out bit by bit: 2 zero bits, 48 bits of milliseconds, 80 random bits.
    private static func reference(_ prefix: String, millis: UInt64, random: (UInt64, UInt16)) -> String {
        var bits: [Bool] = [false, false]
        for shift in (0..<48).reversed() { bits.append(millis >> UInt64(shift) & 1 == 1) }
        for shift in (0..<64).reversed() { bits.append(random.0 >> UInt64(shift) & 1 == 1) }
        for shift in (0..<16).reversed() { bits.append(random.1 >> UInt16(shift) & 1 == 1) }
        var characters = ""
        for start in stride(from: 0, to: 130, by: 5) {
            let value = bits[start..<start + 5].reduce(0) { $0 << 1 | ($1 ? 1 : 0) }
            characters.append(Self.alphabet[value])
        }
        return prefix + "_" + characters
    }

    @Test("encodes the ULID layout exactly, extremes included")
    func encoding() {
        var generator = SystemRandomNumberGenerator()
        var cases: [(UInt64, (UInt64, UInt16))] = [(0, (0, 0)), (0xFFFF_FFFF_FFFF, (.max, .max)), (1, (1, 1))]
        for _ in 0..<2_000 {
            cases.append((generator.next() & 0xFFFF_FFFF_FFFF, (generator.next(), generator.next())))
        }
        for (millis, random) in cases {
            let id = IDGenerator.encode("sess", millis: millis, random: random)
            #expect(id == Self.reference("sess", millis: millis, random: random))
            #expect(id.utf8.count == 31)
        }
        #expect(IDGenerator.encode("sess", millis: 0, random: (0, 0)) == "sess_" + String(repeating: "0", count: 26))
        #expect(IDGenerator.encode("n", millis: 0xFFFF_FFFF_FFFF, random: (.max, .max)) == "n_7" + String(repeating: "Z", count: 25))
    }

    @Test("IDs sort by their time and differ within a millisecond")
    func sortableAndUnique() {
        let early = IDGenerator(clock: ManualClock(Date(timeIntervalSince1970: 1_700_000_000)))
        let late = IDGenerator(clock: ManualClock(Date(timeIntervalSince1970: 1_700_000_000.002)))
        let ids = (0..<1_000).map { _ in early.make("sess") }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0 < late.make("sess") })
        #expect(ids.allSatisfy { $0.hasPrefix("sess_") && $0.dropFirst(5).allSatisfy { Self.alphabet.contains($0) } })
    }
}
