import Foundation

/// Mints HS256 JWTs (RFC 7519) for local use: `sessiond token` and the run script.
package struct TokenSigner: Sendable {
    private let secret: [UInt8]

    package init(secret: [UInt8]) {
        self.secret = secret
    }

    /// A signed token with the claims sessiond requires: `sub`, `role`, `org`, `iat`, `exp`.
    package func token(subject: String, role: String, org: String, issuedAt: Date, lifetime: TimeInterval) -> String {
        let issued = Int(issuedAt.timeIntervalSince1970)
        let claims: [String: Any] = [
            "sub": subject, "role": role, "org": org, "iat": issued, "exp": issued + Int(lifetime),
        ]
        // Sorted keys make tokens reproducible for the same inputs.
        let header = #"{"alg":"HS256","typ":"JWT"}"#
        let payload = (try? JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])) ?? Data()
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode([UInt8](payload))
        let signature = HMAC.authenticationCode(.sha256, key: self.secret, message: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}
