/// The few DER (X.690) encodings JWT keys need: building a SubjectPublicKeyInfo from a JWK's
/// numbers, and turning a JWS ECDSA signature (r ‖ s) into the ECDSA-Sig-Value OpenSSL verifies.
enum DER {
    static func length(_ count: Int) -> [UInt8] {
        if count < 0x80 { return [UInt8(count)] }
        var bytes: [UInt8] = []
        var remaining = count
        while remaining > 0 {
            bytes.insert(UInt8(remaining & 0xFF), at: 0)
            remaining >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    static func element(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        [tag] + self.length(content.count) + content
    }

    static func sequence(_ items: [UInt8]...) -> [UInt8] { self.element(0x30, items.flatMap { $0 }) }

    /// An unsigned big-endian integer: leading zeros dropped, one added when the top bit is set.
    static func integer(_ magnitude: [UInt8]) -> [UInt8] {
        var bytes = Array(magnitude.drop { $0 == 0 })
        if bytes.isEmpty { bytes = [0] }
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return self.element(0x02, bytes)
    }

    static func bitString(_ bytes: [UInt8]) -> [UInt8] { self.element(0x03, [0] + bytes) }

    static let null: [UInt8] = [0x05, 0x00]
    /// 1.2.840.113549.1.1.1
    static let rsaEncryption: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
    /// 1.2.840.10045.2.1
    static let ecPublicKey: [UInt8] = [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]
    /// 1.2.840.10045.3.1.7
    static let prime256v1: [UInt8] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
    /// 1.3.132.0.34
    static let secp384r1: [UInt8] = [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22]

    static func rsaPublicKey(modulus: [UInt8], exponent: [UInt8]) -> [UInt8] {
        self.sequence(
            self.sequence(self.rsaEncryption, self.null),
            self.bitString(self.sequence(self.integer(modulus), self.integer(exponent)))
        )
    }

    static func ecPublicKey(curve: [UInt8], x: [UInt8], y: [UInt8]) -> [UInt8] {
        self.sequence(self.sequence(self.ecPublicKey, curve), self.bitString([0x04] + x + y))
    }

    /// `r ‖ s` (each `half` bytes, as JWS writes ECDSA signatures) as a DER ECDSA-Sig-Value.
    static func ecdsaSignature(raw: [UInt8], half: Int) -> [UInt8]? {
        guard raw.count == 2 * half else { return nil }
        return self.sequence(self.integer(Array(raw[..<half])), self.integer(Array(raw[half...])))
    }
}
