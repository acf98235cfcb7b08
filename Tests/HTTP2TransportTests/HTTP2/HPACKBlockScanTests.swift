@testable import HTTP2Transport
import Testing

@Suite("HPACKBlockScan: finding the authorization literal")
struct HPACKBlockScanTests {
    static func scan(_ block: [UInt8]) -> HPACKBlockScan.Literal? {
        block.withUnsafeBytes { HPACKBlockScan.firstAuthorizationLiteral(in: $0) }
    }

    /// A Huffman-flagged value of `count` bytes (the scan does not decode it).
    static func huffman(_ count: Int) -> [UInt8] {
        (count < 127 ? [0x80 | UInt8(count)] : [0xFF, UInt8(count - 127)]) + [UInt8](repeating: 0xAA, count: count)
    }

    @Test("found after every other kind of representation, by its byte ranges")
    func literalWhenAfterOthers() {
        let before: [UInt8] = [0x3F, 0xE1, 0x1F]  // dynamic table size update, 4096 (5-bit prefix, two more bytes)
            + [0x82, 0xBE]  // indexed: :method GET, a dynamic entry
            + [0x41, 0x01, 0x61]  // incremental indexing, name :authority, value "a"
            + [0x40, 0x01, 0x78, 0x81, 0xFF]  // incremental indexing, new name "x", a Huffman value
            + [0x00, 0x01, 0x79, 0x00]  // without indexing, new name "y", empty value
            + [0x17, 0x02, 0x61, 0x62]  // never indexed, authorization, plain "ab": not it
        let field = [0x1F, 0x08] + Self.huffman(200)
        let literal = Self.scan(before + field + [0x82])
        #expect(literal == HPACKBlockScan.Literal(
            field: before.count..<before.count + field.count, value: before.count + 4..<before.count + field.count, kind: 0x10
        ))
        // Without indexing is the same to us; the kind is kept for the rewrite.
        #expect(Self.scan([0x0F, 0x08] + Self.huffman(5))?.kind == 0x00)
    }

    @Test("the forms that index, or name it otherwise, are not taken", arguments: [
        [0x57] + HPACKBlockScanTests.huffman(60),  // incremental indexing: enters the dynamic table
        [0x10, 0x0D] + Array("authorization".utf8) + HPACKBlockScanTests.huffman(60),  // a literal name
        [0x1F, 0x2F] + HPACKBlockScanTests.huffman(60),  // never indexed, name index 62 (dynamic)
        [0x97],  // indexed field 23 has a name only in the static table: not a field with a value
    ] as [[UInt8]])
    func literalWhenOtherForm(block: [UInt8]) {
        #expect(Self.scan(block) == nil)
    }

    @Test("a malformed block up to it yields nothing (nghttp2 reports it)", arguments: [
        [0x1F, 0x08, 0x85, 0xAA],  // the value runs past the block
        [0x1F],  // the name index ends early
        [0xFF, 0x80, 0x80, 0x80, 0x80, 0x01, 0x1F, 0x08, 0x81, 0xAA],  // an integer of five continuation bytes
        [0x40, 0x85, 0x61],  // a new name running past the block
        [0x1F, 0x08],  // no value
    ] as [[UInt8]])
    func literalWhenMalformed(block: [UInt8]) {
        #expect(Self.scan(block) == nil)
    }

    @Test("integers as RFC 7541 §C.1 encodes them")
    func integerWhenMultiByte() {
        for (bytes, prefix, expected) in [([0x0A], 5, 10), ([0x1F, 0x9A, 0x0A], 5, 1337), ([0x2A], 8, 42)] as [([UInt8], Int, Int)] {
            var position = 0
            let value = bytes.withUnsafeBytes { HPACKBlockScan.integer(in: $0, at: &position, prefixBits: prefix) }
            #expect(value == expected && position == bytes.count)
        }
    }
}
