/// Reads the representations of an HPACK header block (RFC 7541 §6) without decoding them, to
/// find the `authorization` field that `AuthorizationReuse` replaces. Nothing here changes or
/// needs HPACK's dynamic table: indexed fields and names are skipped by their integer.
enum HPACKBlockScan {
    /// One literal field representation in a block, by byte offsets into the block.
    struct Literal: Equatable {
        /// The whole representation: first byte through the value's last byte.
        var field: Range<Int>
        /// The value's string bytes (after its length prefix).
        var value: Range<Int>
        /// The representation's first four bits: 0x00 without indexing, 0x10 never indexed.
        var kind: UInt8
    }

    /// `authorization`'s index in the static table (RFC 7541 Appendix A).
    static let authorizationIndex = 23

    /// The first field of `block` that is a literal `authorization` without indexing or never
    /// indexed (RFC 7541 §6.2.2, §6.2.3), named by its static index, with a Huffman-coded value:
    /// the one form whose removal leaves the dynamic table as it was and saves a decode. Nil when
    /// there is none before the end, or the block is malformed up to it (nghttp2 reports that),
    /// or holds an integer longer than `integer` reads (left to nghttp2 as well).
    static func firstAuthorizationLiteral(in block: UnsafeRawBufferPointer) -> Literal? {
        var position = 0
        while position < block.count {
            let start = position
            let first = block[position]
            if first & 0x80 != 0 {  // indexed field (§6.1)
                guard Self.integer(in: block, at: &position, prefixBits: 7) != nil else { return nil }
            } else if first & 0xC0 == 0x40 {  // literal with incremental indexing (§6.2.1)
                guard let index = Self.integer(in: block, at: &position, prefixBits: 6) else { return nil }
                if index == 0, Self.string(in: block, at: &position) == nil { return nil }
                guard Self.string(in: block, at: &position) != nil else { return nil }
            } else if first & 0xE0 == 0x20 {  // dynamic table size update (§6.3)
                guard Self.integer(in: block, at: &position, prefixBits: 5) != nil else { return nil }
            } else {  // literal without indexing or never indexed (§6.2.2, §6.2.3)
                guard let index = Self.integer(in: block, at: &position, prefixBits: 4) else { return nil }
                if index == 0, Self.string(in: block, at: &position) == nil { return nil }
                guard let value = Self.string(in: block, at: &position) else { return nil }
                if index == Self.authorizationIndex, value.huffman {
                    return Literal(field: start..<position, value: value.bytes, kind: first & 0xF0)
                }
            }
        }
        return nil
    }

    /// An integer with an N-bit prefix (§5.1), moving `position` past it; nil if the block ends
    /// first or it needs more than four continuation bytes (no length here comes near 2^28).
    static func integer(in block: UnsafeRawBufferPointer, at position: inout Int, prefixBits: Int) -> Int? {
        guard position < block.count else { return nil }
        let mask = 1 << prefixBits - 1
        var value = Int(block[position]) & mask
        position += 1
        guard value == mask else { return value }
        var shift = 0
        while position < block.count, shift <= 21 {
            let byte = block[position]
            position += 1
            value += Int(byte & 0x7f) << shift
            shift += 7
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }

    /// A string literal (§5.2), moving `position` past it; nil if it runs past the block.
    static func string(in block: UnsafeRawBufferPointer, at position: inout Int) -> (huffman: Bool, bytes: Range<Int>)? {
        guard position < block.count else { return nil }
        let huffman = block[position] & 0x80 != 0
        guard let length = Self.integer(in: block, at: &position, prefixBits: 7), length <= block.count - position else {
            return nil
        }
        defer { position += length }
        return (huffman, position..<position + length)
    }
}
