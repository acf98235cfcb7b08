import Foundation
private import COpenSSL

/// An RSA or EC public key (OpenSSL `EVP_PKEY`), for verifying RS256/384/512 and ES256/384 JWTs.
///
/// The key is immutable once loaded, so one instance verifies from any thread; each verification
/// uses its own digest context.
package final class PublicKey: @unchecked Sendable {
    package enum Kind: Sendable, Equatable {
        case rsa(bits: Int)
        /// `P-256` or `P-384` (the JWK curve names).
        case ec(curve: String)
    }

    private let key: OpaquePointer
    package let kind: Kind

    private init(key: OpaquePointer) throws(KeyError) {
        self.key = key
        let type = EVP_PKEY_get_base_id(key)
        if type == cssl_pkey_rsa() {
            self.kind = .rsa(bits: Int(EVP_PKEY_get_bits(key)))
        } else if type == cssl_pkey_ec() {
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_group_name(key, &name, name.count, &length) == 1 else {
                EVP_PKEY_free(key)
                throw KeyError("cannot read the EC key's curve")
            }
            switch String(cString: name) {
            case "prime256v1", "P-256": self.kind = .ec(curve: "P-256")
            case "secp384r1", "P-384": self.kind = .ec(curve: "P-384")
            case let other:
                EVP_PKEY_free(key)
                throw KeyError("EC curve \(other) is not supported (P-256 or P-384)")
            }
        } else {
            EVP_PKEY_free(key)
            throw KeyError("only RSA and EC public keys are supported")
        }
    }

    deinit {
        EVP_PKEY_free(self.key)
    }

    package struct KeyError: Error, CustomStringConvertible {
        package var description: String
        init(_ description: String) { self.description = description }
    }

    /// A PEM `PUBLIC KEY` (SubjectPublicKeyInfo), as `openssl pkey -pubout` writes it.
    package convenience init(pem: [UInt8]) throws(KeyError) {
        let loaded: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let loaded else { throw KeyError("not a PEM public key (BEGIN PUBLIC KEY)") }
        try self.init(key: loaded)
    }

    /// A DER SubjectPublicKeyInfo.
    package convenience init(der: [UInt8]) throws(KeyError) {
        let loaded: OpaquePointer? = der.withUnsafeBytes { bytes in
            var pointer = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
            return d2i_PUBKEY(nil, &pointer, bytes.count)
        }
        guard let loaded else { throw KeyError("not a DER public key") }
        try self.init(key: loaded)
    }

    package enum Digest: Sendable {
        case sha256, sha384, sha512

        fileprivate var md: OpaquePointer? {
            switch self {
            case .sha256: EVP_sha256()
            case .sha384: EVP_sha384()
            case .sha512: EVP_sha512()
            }
        }
    }

    /// Whether `signature` (DER for ECDSA, PKCS #1 v1.5 for RSA) signs `message` with `digest`.
    package func verify(signature: [UInt8], message: [UInt8], digest: Digest) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, digest.md, nil, self.key) == 1 else { return false }
        let result = signature.withUnsafeBytes { signatureBytes in
            message.withUnsafeBytes { messageBytes in
                EVP_DigestVerify(
                    context,
                    signatureBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), signatureBytes.count,
                    messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count
                )
            }
        }
        ERR_clear_error()
        return result == 1
    }
}
