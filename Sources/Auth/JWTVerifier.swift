import Foundation
import ServiceErrors

/// Verifies JWTs (RFC 7519) signed with HMAC (HS256/384/512) and returns their claims.
///
/// Checks, in order: size (≤ 8 KiB), shape and strict base64url, header JSON with a known HMAC
/// `alg` (never `none`), the signature against each configured secret (constant time), then the
/// claims: `sub`, `role` (tester, researcher, admin, service), `org` and `exp` are required;
/// `exp`, `nbf` and `iat` are checked with a small clock skew; `iss` and `aud` when configured.
package struct JWTVerifier: Sendable {
    package struct Claims: Sendable, Equatable {
        package var subject: String
        package var role: String
        package var org: String
        package var expiresAt: Date
    }

    package static let roles: Set<String> = ["tester", "researcher", "admin", "service"]
    package static let maxTokenSize = 8 * 1024

    private let secrets: [[UInt8]]
    private let issuer: String?
    private let audience: String?
    /// How far `exp`, `nbf` and `iat` may be off (clocks differ between machines).
    package let clockSkew: TimeInterval

    /// Several secrets may be valid at once (rotation).
    package init(secrets: [[UInt8]], issuer: String? = nil, audience: String? = nil, clockSkew: TimeInterval = 60) {
        self.secrets = secrets
        self.issuer = issuer
        self.audience = audience
        self.clockSkew = clockSkew
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
        let algorithm: HMAC.Algorithm
        switch alg {
        case "HS256": algorithm = .sha256
        case "HS384": algorithm = .sha384
        case "HS512": algorithm = .sha512
        default: throw Self.reject("algorithm \(alg) is not accepted")
        }
        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        let valid = self.secrets.contains { secret in
            HMAC.constantTimeEquals(HMAC.authenticationCode(algorithm, key: secret, message: signingInput), signature)
        }
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
