@testable import Auth
import Foundation
import RPCCore

/// JWT parsing and verification as the auth interceptor does it: the `authorization` header,
/// base64url, the JSON header and claims, the algorithm/key checks and the signature (HMAC,
/// RSA, ECDSA with its raw-to-DER conversion), with a key ring of each kind. One mode loads the
/// input as a JWKS document instead.
enum JWTTarget {
    static let secret = Array("fuzz-secret-0123456789abcdef".utf8)
    static let now = Date(timeIntervalSince1970: 1_773_655_200)

    /// Held here as well as in the ring: LeakSanitizer cannot follow the pointer Swift keeps in
    /// spare bits of `JWTKey.Material.publicKey`, and would report the keys as leaked at exit.
    static let publicKeys: [PublicKey] = {
        let ec = """
            -----BEGIN PUBLIC KEY-----
            MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEY38ZL2aDr4j6i+It4+NBWDl62huW
            kaHbqRRV7hNV0kCQX3c9m0VR01SJwGaFZalPySTsOL1suK1joniZJ2ROUg==
            -----END PUBLIC KEY-----
            """
        let rsa = """
            -----BEGIN PUBLIC KEY-----
            MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA8F7ZwrAbRomXe0x20zgt
            FAo/2aktxNUIxAZn8pxnvCRl5ILnZ5j6px4+4cwwgTJbO93uBiRN9aX/2RwxbTTK
            IKOPRk83vaSrzIlAotR4wpcH8gkycuU77Dbs2j+mz6ad7N1YeaaponZjfPrLI0CH
            U0Ew1QV4NbOxVsv9SisoCxv4y+y5eSOoaj7wtETXS8rZiVGyE6ILfLrmOWUQu9v3
            T0orF8txosI7XYGPzLgUrCQyJpvMA8Q4F2NiuycGi7P8ORIif+5jBoUrxFoFH31c
            wLcmPSHro/p9H8V2ds3sp7oUC8XOYXLTWRaV7GDvuVkwAHEFtaYtOy6fO69lJSUn
            swIDAQAB
            -----END PUBLIC KEY-----
            """
        return [try! PublicKey(pem: Array(ec.utf8)), try! PublicKey(pem: Array(rsa.utf8))]
    }()

    static let keys = JWTKeyRing([
        JWTKey(.hmac(Self.secret)),
        JWTKey(id: "ec", .publicKey(Self.publicKeys[0])),
        JWTKey(id: "rsa", .publicKey(Self.publicKeys[1])),
    ])

    static let verifier = JWTVerifier(keys: Self.keys, issuer: "https://issuer.example", audience: "sessiond")

    @Sendable static func run(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzInput(bytes)
        let mode = input.byte()
        let text = String(decoding: input.rest, as: UTF8.self)
        switch mode % 4 {
        case 0:
            _ = try? Self.verifier.verify(text, now: Self.now)
        case 1:
            // The interceptor path: header parsing, the cache, then verification.
            let interceptor = AuthInterceptor(verifier: Self.verifier, now: { Self.now })
            var context = CallContext(
                method: RPCMethod(service: "sessions.v1.SessionService", name: "GetSession", kind: .unary),
                metadata: Metadata([("authorization", text)]),
                requestID: "fuzz"
            )
            try? interceptor.intercept(&context)
        case 2:
            _ = try? JWTKey.jwks(Array(input.rest))
        default:
            _ = try? PublicKey(pem: Array(input.rest))
            _ = try? PublicKey(der: Array(input.rest))
        }
    }

    static var seeds: [[UInt8]] {
        let signer = TokenSigner(secret: Self.secret)
        let token = signer.token(subject: "user_1", role: "tester", org: "org_1", issuedAt: Self.now, lifetime: 3600)
        let jwks = #"{"keys": [{"kty": "oct", "kid": "k1", "k": "c2VjcmV0"}, "#
            + #"{"kty": "EC", "crv": "P-256", "kid": "e", "x": "Y38ZL2aDr4j6i-It4-NBWDl62huWkaHbqRRV7hNV0kA", "#
            + #""y": "kF93PZtFUdNUicBmhWWpT8kk7Di9bLitY6J4mSdkTlI"}, "#
            + #"{"kty": "RSA", "n": "8F7Zwg", "e": "AQAB", "use": "sig"}]}"#
        return [
            [0] + Array(token.utf8),
            [1] + Array("Bearer \(token)".utf8),
            [0] + Array("eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjIn0.eyJzdWIiOiJ1In0.AAAA".utf8),
            [0] + Array("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.".utf8),
            [2] + Array(jwks.utf8),
        ]
    }
}
