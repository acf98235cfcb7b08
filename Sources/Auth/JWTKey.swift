import Foundation
import NIOConcurrencyHelpers

/// A key tokens may be signed with: an HMAC secret (HS256/384/512) or a public key (RS256/384/512
/// with RSA, ES256 with P-256, ES384 with P-384), with the `kid` that names it, if any.
package struct JWTKey: Sendable {
    package enum Material: Sendable {
        case hmac([UInt8])
        case publicKey(PublicKey)
    }

    package var id: String?
    package var material: Material

    package init(id: String? = nil, _ material: Material) {
        self.id = id
        self.material = material
    }

    package struct LoadError: Error, CustomStringConvertible {
        package var description: String
        init(_ description: String) { self.description = description }
    }

    /// The keys of a JWKS document (RFC 7517): `RSA` (`n`, `e`), `EC` (`crv` P-256 or P-384, `x`,
    /// `y`) and `oct` (`k`). Keys marked `"use": "enc"` and other key types are skipped; a JWKS
    /// that leaves no key is an error.
    package static func jwks(_ data: [UInt8]) throws(LoadError) -> [JWTKey] {
        guard let document = (try? JSONSerialization.jsonObject(with: Data(data))) as? [String: Any],
            let entries = document["keys"] as? [[String: Any]]
        else { throw LoadError("not a JWKS document ({\"keys\": [...]})") }
        var keys: [JWTKey] = []
        for (index, entry) in entries.enumerated() {
            if entry["use"] as? String == "enc" { continue }
            let id = entry["kid"] as? String
            func member(_ name: String) throws(LoadError) -> [UInt8] {
                guard let text = entry[name] as? String, let bytes = Base64URL.decode(Substring(text)), !bytes.isEmpty else {
                    throw LoadError("key \(id ?? "#\(index)"): '\(name)' is missing or not base64url")
                }
                return bytes
            }
            do {
                switch entry["kty"] as? String {
                case "RSA":
                    let key = try PublicKey(der: DER.rsaPublicKey(modulus: try member("n"), exponent: try member("e")))
                    keys.append(JWTKey(id: id, .publicKey(key)))
                case "EC":
                    let (curve, size): ([UInt8], Int)
                    switch entry["crv"] as? String {
                    case "P-256": (curve, size) = (DER.prime256v1, 32)
                    case "P-384": (curve, size) = (DER.secp384r1, 48)
                    default: throw LoadError("key \(id ?? "#\(index)"): curve \(entry["crv"] ?? "none") is not P-256 or P-384")
                    }
                    let x = try member("x")
                    let y = try member("y")
                    guard x.count == size, y.count == size else {
                        throw LoadError("key \(id ?? "#\(index)"): x and y must be \(size) bytes")
                    }
                    keys.append(JWTKey(id: id, .publicKey(try PublicKey(der: DER.ecPublicKey(curve: curve, x: x, y: y)))))
                case "oct":
                    keys.append(JWTKey(id: id, .hmac(try member("k"))))
                default:
                    continue
                }
            } catch let error as LoadError {
                throw error
            } catch {
                throw LoadError("key \(id ?? "#\(index)"): \(error)")
            }
        }
        guard !keys.isEmpty else { throw LoadError("the JWKS holds no usable key") }
        return keys
    }
}

/// The keys in force; replaced as a whole when a JWKS file changes, so tokens signed with any key
/// of the new set verify from the next call on.
package final class JWTKeyRing: Sendable {
    private let current: NIOLockedValueBox<[JWTKey]>

    package init(_ keys: [JWTKey]) {
        self.current = NIOLockedValueBox(keys)
    }

    package var keys: [JWTKey] { self.current.withLockedValue { $0 } }

    package func replace(with keys: [JWTKey]) {
        self.current.withLockedValue { $0 = keys }
    }
}
