import Auth
import Foundation
import Testing

@Suite("HMAC and token minting")
struct TokenSignerTests {
    @Test("HMAC-SHA256 matches RFC 4231 test case 2")
    func hmacKnownAnswer() {
        let mac = HMAC.authenticationCode(.sha256, key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        #expect(hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("constant-time comparison tells equal from different")
    func constantTime() {
        #expect(HMAC.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!HMAC.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!HMAC.constantTimeEquals([1, 2], [1, 2, 3]))
    }

    @Test("a minted token has the documented header and claims and a valid signature")
    func mintedToken() throws {
        let signer = TokenSigner(secret: Array("secret".utf8))
        let token = signer.token(subject: "u1", role: "tester", org: "o1", issuedAt: Date(timeIntervalSince1970: 1000), lifetime: 60)
        let parts = token.split(separator: ".")
        #expect(parts.count == 3)
        let header = try #require(Base64URL.decode(parts[0]))
        #expect(String(decoding: header, as: UTF8.self) == #"{"alg":"HS256","typ":"JWT"}"#)
        let claims = try #require(Base64URL.decode(parts[1]))
        #expect(String(decoding: claims, as: UTF8.self) == #"{"exp":1060,"iat":1000,"org":"o1","role":"tester","sub":"u1"}"#)
        let expected = HMAC.authenticationCode(.sha256, key: Array("secret".utf8), message: Array("\(parts[0]).\(parts[1])".utf8))
        #expect(Base64URL.decode(parts[2]) == expected)
    }

    @Test("base64url rejects padding and characters outside its alphabet")
    func strictBase64URL() {
        #expect(Base64URL.decode("YQ") == [0x61])
        #expect(Base64URL.decode("YQ==") == nil)
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.decode("A") == nil)
    }

    @Test("the secret file is created with mode 0600 and read back the same")
    func secretFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jwt-\(UUID().uuidString)").path
        let (created, source) = try JWTSecret.load(file: nil, environment: [:], dataDirectory: directory, createIfMissing: true)
        guard case .created(let path) = source else {
            Issue.record("expected a new secret file, got \(source)")
            return
        }
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let (again, _) = try JWTSecret.load(file: nil, environment: [:], dataDirectory: directory, createIfMissing: false)
        #expect(again == created)
        let (fromEnvironment, environmentSource) = try JWTSecret.load(
            file: nil, environment: ["SESSIOND_JWT_SECRET": "  s3cret \n"], dataDirectory: directory, createIfMissing: false)
        #expect(fromEnvironment == Array("s3cret".utf8) && environmentSource == .environment)
    }
}
