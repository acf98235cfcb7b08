import Auth
import Foundation
import Testing

@Suite("verified-token cache and bearer parsing")
struct VerifiedTokenCacheTests {
    static let claims = JWTVerifier.Claims(subject: "s", role: "service", org: "o", expiresAt: Date(timeIntervalSince1970: 2000))

    @Test("an entry serves until its token expires, then is gone")
    func expiry() {
        let cache = VerifiedTokenCache()
        cache.insert("t", Self.claims, validUntil: Date(timeIntervalSince1970: 2060))
        #expect(cache.claims(for: "t", now: Date(timeIntervalSince1970: 2059)) == Self.claims)
        #expect(cache.claims(for: "t", now: Date(timeIntervalSince1970: 2060)) == nil)
        #expect(cache.count == 0)
        #expect(cache.claims(for: "other", now: Date(timeIntervalSince1970: 0)) == nil)
    }

    @Test("the last-used entry answers like the table: alternating tokens, expiry, clearing")
    func lastUsed() {
        let cache = VerifiedTokenCache()
        let other = JWTVerifier.Claims(subject: "t", role: "tester", org: "o", expiresAt: Date(timeIntervalSince1970: 3000))
        cache.insert("a", Self.claims, validUntil: Date(timeIntervalSince1970: 2060))
        cache.insert("b", other, validUntil: Date(timeIntervalSince1970: 3060))
        for _ in 0..<3 {
            #expect(cache.claims(for: "a", now: Date(timeIntervalSince1970: 2000)) == Self.claims)
            #expect(cache.claims(for: "a", now: Date(timeIntervalSince1970: 2000)) == Self.claims)
            #expect(cache.claims(for: "b", now: Date(timeIntervalSince1970: 2000)) == other)
        }
        #expect(cache.claims(for: "a", now: Date(timeIntervalSince1970: 2060)) == nil, "expired while last-used")
        #expect(cache.claims(for: "a", now: Date(timeIntervalSince1970: 0)) == nil, "and gone from the table")
        #expect(cache.claims(for: "b", now: Date(timeIntervalSince1970: 2060)) == other)
        cache.removeAll()
        #expect(cache.claims(for: "b", now: Date(timeIntervalSince1970: 2060)) == nil, "clearing drops the last-used entry too")
    }

    @Test("it never holds more than its capacity")
    func bounded() {
        let cache = VerifiedTokenCache(capacity: 100)
        for index in 0..<1000 {
            cache.insert("token-\(index)", Self.claims, validUntil: .distantFuture)
            #expect(cache.count <= 100)
        }
        #expect(cache.claims(for: "token-999", now: Date()) == Self.claims)
    }

    @Test("a repeated token is verified once, and a cleared cache verifies again against the current keys")
    func interceptorUsesTheCache() throws {
        let ring = JWTKeyRing([JWTKey(.hmac(Array("secret".utf8)))])
        let cache = VerifiedTokenCache()
        let now = Date()
        let token = TokenSigner(secret: Array("secret".utf8))
            .token(subject: "s", role: "service", org: "o", issuedAt: now, lifetime: 60)
        let verifier = JWTVerifier(keys: ring)
        _ = try verifier.verify(token, now: now)
        cache.insert(token, try verifier.verify(token, now: now), validUntil: now.addingTimeInterval(120))
        ring.replace(with: [JWTKey(.hmac(Array("rotated".utf8)))])
        #expect(cache.claims(for: token, now: now) != nil, "the cache answers until it is cleared")
        cache.removeAll()
        #expect(throws: (any Error).self) { try verifier.verify(token, now: now) }
    }

    @Test("Bearer tokens are taken with any scheme case and surrounding spaces", arguments: [
        ("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer abc", "abc"), ("BEARER   abc  ", "abc"),
        ("Bearer", nil), ("Bearer ", nil), ("Basic abc", nil), ("Bearerabc", nil), ("", nil),
    ] as [(String, String?)])
    func bearer(_ header: String, _ token: String?) {
        #expect(AuthInterceptor.bearerToken(header) == token)
    }
}
