private import COpenSSL

/// HMAC over OpenSSL's libcrypto (the same library that serves TLS).
package enum HMAC {
    package enum Algorithm: Sendable {
        case sha256, sha384, sha512

        fileprivate var digest: OpaquePointer? {
            switch self {
            case .sha256: EVP_sha256()
            case .sha384: EVP_sha384()
            case .sha512: EVP_sha512()
            }
        }
    }

    package static func authenticationCode(_ algorithm: Algorithm, key: [UInt8], message: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                output.withUnsafeMutableBytes { outputBytes in
                    COpenSSL.HMAC(
                        algorithm.digest,
                        keyBytes.baseAddress,
                        Int32(keyBytes.count),
                        messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        messageBytes.count,
                        outputBytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        &length
                    )
                }
            }
        }
        // HMAC only fails on allocation failure inside OpenSSL; there is nothing sensible to return.
        precondition(result != nil, "OpenSSL HMAC failed")
        return Array(output.prefix(Int(length)))
    }

    /// Compares two byte strings in time that depends only on their lengths.
    package static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0 }
        }
    }

    /// Cryptographically secure random bytes from OpenSSL's generator.
    package static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBytes { RAND_bytes($0.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count)) }
        precondition(ok == 1, "OpenSSL RAND_bytes failed")
        return bytes
    }
}
