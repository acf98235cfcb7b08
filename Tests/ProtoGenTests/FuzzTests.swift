import ProtoWire
import TestSupport
import Testing

/// Decoding arbitrary bytes must throw or succeed, never trap.
@Suite("decoding fuzz")
struct FuzzTests {
    @Test("random byte strings never crash the decoder", arguments: [1, 2, 3, 4])
    func randomInputs(seed: UInt64) async {
        var generator = SeededGenerator(state: seed)
        var decodedCount = 0
        for index in 0..<5_000 {
            await yieldNowAndThen(iteration: index, every: 100)
            let length = Int.random(in: 0..<96, using: &generator)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            decodedCount += Self.decodeAndRoundTrip(bytes) ? 1 : 0
        }
        // Some short inputs are valid messages; all inputs must merely not crash.
        #expect(decodedCount > 0)
    }

    @Test("mutations of valid messages never crash the decoder", arguments: [11, 12, 13, 14])
    func mutatedInputs(seed: UInt64) async {
        var generator = SeededGenerator(state: seed)
        let seeds = EverythingCases.all.values.map { $0.serializedBytes() }.filter { !$0.isEmpty && $0.count < 4096 }
        var rejected = 0
        for index in 0..<5_000 {
            await yieldNowAndThen(iteration: index, every: 100)
            var bytes = seeds.randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.removeSubrange(index...)
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                default: bytes[index] ^= 0x80
                }
                if bytes.isEmpty { break }
            }
            rejected += Self.decodeAndRoundTrip(bytes) ? 0 : 1
        }
        #expect(rejected > 0, "mutations should produce some invalid inputs")
    }

    /// Decodes; when that succeeds, the re-encoding must decode to the same message.
    private static func decodeAndRoundTrip(_ bytes: [UInt8]) -> Bool {
        guard let message = try? Everything(serializedBytes: bytes) else { return false }
        let again = try? Everything(serializedBytes: message.serializedBytes())
        #expect(again != nil, "re-encoding of a decoded message failed to decode: \(bytes)")
        if let again, !Self.containsNaN(bytes) {
            #expect(again == message)
        }
        return true
    }

    /// NaN never equals itself, so value comparison is skipped for inputs that may hold one.
    private static func containsNaN(_ bytes: [UInt8]) -> Bool {
        (try? Everything(serializedBytes: bytes)).map { "\($0)".contains("nan") } ?? false
    }
}
