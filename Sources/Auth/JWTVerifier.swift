import Foundation
import ServiceErrors

/// Verifies JWTs (RFC 7519) and returns their claims. Accepted: HS256/384/512 (HMAC secrets),
/// RS256/384/512 (RSA keys of at least 2048 bits), ES256 (P-256) and ES384 (P-384).
///
/// Checks, in order: size (≤ 8 KiB), shape and strict base64url, header JSON with an accepted
/// `alg` (never `none`), the key: the one named by `kid` if the header has one (an unknown `kid`
/// is rejected), and only keys of the algorithm's type (an RSA public key is never an HMAC
/// secret), the signature (HMAC compared in constant time), then the claims: `sub`, `role` (tester, researcher, admin, service), `org` and `exp` are required;
/// `exp`, `nbf` and `iat` are checked with a small clock skew; `iss` and `aud` when configured.
package struct JWTVerifier: Sendable {
    package struct Claims: Sendable, Equatable {
        package var subject: String
        package var role: String
        package var org: String
        package var expiresAt: Date

        package init(subject: String, role: String, org: String, expiresAt: Date) {
            self.subject = subject
            self.role = role
            self.org = org
            self.expiresAt = expiresAt
        }
    }

    package static let roles: Set<String> = ["tester", "researcher", "admin", "service"]
    package static let maxTokenSize = 8 * 1024

    private let keys: JWTKeyRing
    private let issuer: String?
    private let audience: String?
    /// How far `exp`, `nbf` and `iat` may be off (clocks differ between machines).
    package let clockSkew: TimeInterval

    /// Several keys may be valid at once (rotation).
    package init(keys: JWTKeyRing, issuer: String? = nil, audience: String? = nil, clockSkew: TimeInterval = 60) {
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.clockSkew = clockSkew
    }

    package init(secrets: [[UInt8]], issuer: String? = nil, audience: String? = nil, clockSkew: TimeInterval = 60) {
        self.init(keys: JWTKeyRing(secrets.map { JWTKey(.hmac($0)) }), issuer: issuer, audience: audience, clockSkew: clockSkew)
    }

    private enum Algorithm {
        case hmac(HMAC.Algorithm)
        case rsa(PublicKey.Digest)
        case ecdsa(PublicKey.Digest, curve: String, half: Int)

        init?(_ name: String) {
            switch name {
            case "HS256": self = .hmac(.sha256)
            case "HS384": self = .hmac(.sha384)
            case "HS512": self = .hmac(.sha512)
            case "RS256": self = .rsa(.sha256)
            case "RS384": self = .rsa(.sha384)
            case "RS512": self = .rsa(.sha512)
            case "ES256": self = .ecdsa(.sha256, curve: "P-256", half: 32)
            case "ES384": self = .ecdsa(.sha384, curve: "P-384", half: 48)
            default: return nil
            }
        }

        /// Whether `key` can have made this algorithm's signatures.
        func accepts(_ key: JWTKey) -> Bool {
            switch (self, key.material) {
            case (.hmac, .hmac): true
            case (.rsa, .publicKey(let publicKey)):
                if case .rsa(let bits) = publicKey.kind { bits >= 2048 } else { false }
            case (.ecdsa(_, let curve, _), .publicKey(let publicKey)): publicKey.kind == .ec(curve: curve)
            default: false
            }
        }

        func verify(_ signature: [UInt8], _ message: [UInt8], with key: JWTKey) -> Bool {
            switch (self, key.material) {
            case (.hmac(let algorithm), .hmac(let secret)):
                return HMAC.constantTimeEquals(HMAC.authenticationCode(algorithm, key: secret, message: message), signature)
            case (.rsa(let digest), .publicKey(let publicKey)):
                return publicKey.verify(signature: signature, message: message, digest: digest)
            case (.ecdsa(let digest, _, let half), .publicKey(let publicKey)):
                guard let der = DER.ecdsaSignature(raw: signature, half: half) else { return false }
                return publicKey.verify(signature: der, message: message, digest: digest)
            default:
                return false
            }
        }
    }

    package func verify(_ token: String, now: Date) throws(ServiceError) -> Claims {
        guard token.utf8.count <= Self.maxTokenSize else { throw Self.reject("the token is larger than 8 KiB") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw Self.reject("the token is not a signed JWT (header.payload.signature)") }
        guard let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else { throw Self.reject("the token is not valid base64url") }
        guard let header = Self.object(headerBytes) else { throw Self.reject("the token header is not a JSON object") }
        guard let alg = header["alg"] as? String else { throw Self.reject("the token header has no alg") }
        guard let algorithm = Algorithm(alg) else { throw Self.reject("algorithm \(alg) is not accepted") }
        var candidates = self.keys.keys
        if let kid = header["kid"] {
            guard let kid = kid as? String else { throw Self.reject("the token's kid is not a string") }
            candidates = candidates.filter { $0.id == kid }
            guard !candidates.isEmpty else { throw Self.reject("no key has the token's kid") }
        }
        candidates = candidates.filter(algorithm.accepts)
        guard !candidates.isEmpty else { throw Self.reject("no configured key accepts algorithm \(alg)") }
        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        let valid = candidates.contains { algorithm.verify(signature, signingInput, with: $0) }
        guard valid else { throw Self.reject("the token signature is invalid") }
        guard let claims = Self.object(payloadBytes) else { throw Self.reject("the token payload is not a JSON object") }
        return try self.check(claims, now: now)
    }

    private func check(_ claims: [String: Any], now: Date) throws(ServiceError) -> Claims {
        guard let subject = claims["sub"] as? String, !subject.isEmpty else { throw Self.reject("the token has no sub") }
        guard let role = claims["role"] as? String else { throw Self.reject("the token has no role") }
        guard Self.roles.contains(role) else { throw Self.reject("role '\(role)' is not one of tester, researcher, admin, service") }
        guard let org = claims["org"] as? String, !org.isEmpty else { throw Self.reject("the token has no org") }
        guard let exp = Self.number(claims["exp"]) else { throw Self.reject("the token has no exp") }
        let nowSeconds = now.timeIntervalSince1970
        guard nowSeconds < exp + self.clockSkew else { throw Self.reject("the token has expired") }
        if claims["nbf"] != nil {
            guard let nbf = Self.number(claims["nbf"]) else { throw Self.reject("nbf is not a number") }
            guard nowSeconds + self.clockSkew >= nbf else { throw Self.reject("the token is not valid yet") }
        }
        if claims["iat"] != nil {
            guard let iat = Self.number(claims["iat"]) else { throw Self.reject("iat is not a number") }
            guard iat <= nowSeconds + self.clockSkew else { throw Self.reject("the token was issued in the future") }
        }
        if let issuer = self.issuer {
            guard claims["iss"] as? String == issuer else { throw Self.reject("the token issuer is not accepted") }
        }
        if let audience = self.audience {
            let accepted: Bool
            switch claims["aud"] {
            case let single as String: accepted = single == audience
            case let many as [Any]: accepted = many.contains { $0 as? String == audience }
            default: accepted = false
            }
            guard accepted else { throw Self.reject("the token audience is not accepted") }
        }
        return Claims(subject: subject, role: role, org: org, expiresAt: Date(timeIntervalSince1970: exp))
    }

    private static func object(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// A JSON number (not a bool, which JSONSerialization also bridges to NSNumber).
    private static func number(_ value: Any?) -> Double? {
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        return number.doubleValue
    }

    private static func reject(_ message: String) -> ServiceError {
        ServiceError(.unauthenticated, message)
    }
}
