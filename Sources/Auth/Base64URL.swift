import Foundation
import ProtoWire

/// base64url without padding (RFC 4648 §5), as JWTs use it (RFC 7515 §2).
package enum Base64URL {
    package static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes strict base64url: only the URL-safe alphabet, no padding, no whitespace.
    package static func decode(_ text: Substring) -> [UInt8]? {
        guard text.utf8.allSatisfy({ Self.isAlphabet($0) }) else { return nil }
        return Base64.decode(text.utf8)
    }

    private static func isAlphabet(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
    }
}
