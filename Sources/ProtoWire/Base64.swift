/// base64 decoding over bytes, lenient as protobuf's JSON mapping and Connect GET want it: the
/// standard or the URL-safe alphabet (RFC 4648 §4, §5), padded or not. No Foundation, no
/// intermediate strings: it runs on request paths.
package enum Base64 {
    /// nil for a character outside both alphabets, padding anywhere but the end, or a length that
    /// no encoding has (1 mod 4).
    package static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var input = Array(text)[...]
        while input.last == UInt8(ascii: "=") { input = input.dropLast() }
        guard input.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in input {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"), UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "_"), UInt8(ascii: "/"): value = 63
            default: return nil
            }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return output
    }
}
