import Auth
import Foundation
import ServiceErrors
import Testing

@Suite("JWT verification")
struct JWTVerifierTests {
    static let secret = Array("s3cret-for-tests".utf8)
    static let now = Date(timeIntervalSince1970: 2_000_000_000)

    /// A token with `header` and `claims` as JSON, signed with HS256 (or not, for `signature`).
    static func token(header: String = #"{"alg":"HS256","typ":"JWT"}"#, claims: String, secret: [UInt8] = secret,
                      signature: String? = nil) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        let mac = signature ?? Base64URL.encode(HMAC.authenticationCode(.sha256, key: secret, message: Array(input.utf8)))
        return input + "." + mac
    }

    static let valid = #"{"sub":"u1","role":"researcher","org":"o1","exp":2000000600,"iat":2000000000}"#

    @Test("a well-formed HS256 token yields its claims")
    func accepts() throws {
        let claims = try JWTVerifier(secrets: [Self.secret]).verify(Self.token(claims: Self.valid), now: Self.now)
        #expect(claims.subject == "u1" && claims.role == "researcher" && claims.org == "o1")
    }

    @Test("every kind of bad token is UNAUTHENTICATED with a message saying why", arguments: [
        (token(header: #"{"alg":"none"}"#, claims: valid, signature: ""), "not accepted"),
        (token(header: #"{"alg":"RS256"}"#, claims: valid), "no configured key accepts algorithm RS256"),
        (token(claims: valid, secret: Array("another secret".utf8)), "signature is invalid"),
        (token(claims: valid).dropLast(2) + "AA", "signature is invalid"),
        ("abc.def", "not a signed JWT"),
        ("a+b.c.d", "base64url"),
        (token(header: "not json", claims: valid), "header is not a JSON object"),
        (token(claims: "[1,2]"), "payload is not a JSON object"),
        (token(claims: #"{"role":"tester","org":"o","exp":2000000600}"#), "no sub"),
        (token(claims: #"{"sub":"u","org":"o","exp":2000000600}"#), "no role"),
        (token(claims: #"{"sub":"u","role":"root","org":"o","exp":2000000600}"#), "is not one of"),
        (token(claims: #"{"sub":"u","role":"tester","exp":2000000600}"#), "no org"),
        (token(claims: #"{"sub":"u","role":"tester","org":"o"}"#), "no exp"),
        (token(claims: #"{"sub":"u","role":"tester","org":"o","exp":true}"#), "no exp"),
        (token(claims: #"{"sub":"u","role":"tester","org":"o","exp":1999999900}"#), "expired"),
        (token(claims: #"{"sub":"u","role":"tester","org":"o","exp":2000000600,"nbf":2000000300}"#), "not valid yet"),
        (token(claims: #"{"sub":"u","role":"tester","org":"o","exp":2000000600,"iat":2000000300}"#), "issued in the future"),
        (String(repeating: "a", count: 9000), "larger than 8 KiB"),
    ])
    func rejects(token: String, reason: String) {
        do {
            _ = try JWTVerifier(secrets: [Self.secret]).verify(token, now: Self.now)
            Issue.record("accepted a bad token (\(reason))")
        } catch {
            #expect(error.code == .unauthenticated)
            #expect(error.message.contains(reason), "'\(error.message)' does not say '\(reason)'")
        }
    }

    @Test("clock skew of a minute is tolerated on exp and nbf")
    func clockSkew() throws {
        let verifier = JWTVerifier(secrets: [Self.secret])
        let justExpired = Self.token(claims: #"{"sub":"u","role":"tester","org":"o","exp":1999999970}"#)
        _ = try verifier.verify(justExpired, now: Self.now)
        let almostValid = Self.token(claims: #"{"sub":"u","role":"tester","org":"o","exp":2000000600,"nbf":2000000030}"#)
        _ = try verifier.verify(almostValid, now: Self.now)
    }

    @Test("iss and aud are checked when configured; several secrets allow rotation")
    func issuerAudienceAndRotation() throws {
        let claims = #"{"sub":"u","role":"tester","org":"o","exp":2000000600,"iss":"us","aud":["api","web"]}"#
        _ = try JWTVerifier(secrets: [Self.secret], issuer: "us", audience: "api").verify(Self.token(claims: claims), now: Self.now)
        #expect(throws: ServiceError.self) {
            _ = try JWTVerifier(secrets: [Self.secret], issuer: "them").verify(Self.token(claims: claims), now: Self.now)
        }
        #expect(throws: ServiceError.self) {
            _ = try JWTVerifier(secrets: [Self.secret], audience: "admin").verify(Self.token(claims: claims), now: Self.now)
        }
        let old = Array("old secret".utf8)
        let rotated = JWTVerifier(secrets: [Self.secret, old])
        _ = try rotated.verify(Self.token(claims: Self.valid, secret: old), now: Self.now)
        _ = try rotated.verify(Self.token(claims: Self.valid), now: Self.now)
    }
}
