/// RFC 3986 percent-decoding of request targets, shared by the REST gateway's paths and queries
/// and Connect's GET queries. Works over bytes: it runs on every request.
package enum PercentDecoding {
    /// `%XX` decoded, and `+` as a space when `plusIsSpace` (form-encoded queries); nil for a `%`
    /// not followed by two hex digits.
    package static func bytes(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, plusIsSpace: Bool) -> [UInt8]? {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+") where plusIsSpace:
                decoded.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard bytes.endIndex - index > 2, let high = Self.hexValue(bytes[index + 1]),
                    let low = Self.hexValue(bytes[index + 2])
                else { return nil }
                decoded.append(high << 4 | low)
                index += 2
            default:
                decoded.append(byte)
            }
            index += 1
        }
        return decoded
    }

    /// The decoded text; nil for a bad escape or bytes that are not UTF-8. Text with nothing to
    /// decode (nearly all of it) is copied as it is.
    package static func text(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, plusIsSpace: Bool) -> String? {
        var ascii = true
        for byte in bytes {
            if byte == UInt8(ascii: "%") || (plusIsSpace && byte == UInt8(ascii: "+")) {
                return Self.bytes(bytes, plusIsSpace: plusIsSpace).flatMap { String(validating: $0, as: UTF8.self) }
            }
            if byte >= 0x80 { ascii = false }
        }
        // ASCII is UTF-8 as it is: only other text needs checking.
        let plain = UnsafeBufferPointer(rebasing: bytes)
        return ascii ? String(decoding: plain, as: UTF8.self) : String(validating: plain, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
