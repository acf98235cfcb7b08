import ArgumentParser
import Auth
import Foundation
import Logging

/// Which JWT keys `serve` accepts, and keeping them current when the JWKS file changes.
extension Serve {
    /// The JWT verification settings: public key files, JWKS file, issuer and audience.
    struct JWTSettings {
        var publicKeyFiles: [String]
        var jwksFile: String?
        var issuer: String?
        var audience: String?
    }

    func jwtSettings() -> JWTSettings {
        let files = (self.jwtPublicKeys ?? EnvironmentValue.string("SESSIOND_JWT_PUBLIC_KEYS") ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return JWTSettings(
            publicKeyFiles: files,
            jwksFile: self.jwksFile ?? EnvironmentValue.string("SESSIOND_JWKS_FILE"),
            issuer: self.jwtIssuer ?? EnvironmentValue.string("SESSIOND_JWT_ISSUER"),
            audience: self.jwtAudience ?? EnvironmentValue.string("SESSIOND_JWT_AUDIENCE")
        )
    }

    /// Every key tokens may be signed with: the HMAC secret, the PEM public keys, the JWKS keys.
    static func keys(secret: [UInt8], settings: JWTSettings) throws -> [JWTKey] {
        var keys = [JWTKey(.hmac(secret))]
        for file in settings.publicKeyFiles {
            guard let pem = FileManager.default.contents(atPath: file) else {
                throw ValidationError("--jwt-public-keys: cannot read \(file)")
            }
            do {
                keys.append(JWTKey(.publicKey(try PublicKey(pem: [UInt8](pem)))))
            } catch {
                throw ValidationError("--jwt-public-keys: \(file): \(error)")
            }
        }
        if let file = settings.jwksFile {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("--jwks-file: cannot read \(file)")
            }
            do {
                keys += try JWTKey.jwks([UInt8](data))
            } catch {
                throw ValidationError("--jwks-file: \(file): \(error)")
            }
        }
        return keys
    }

    /// The verifier over every configured key, and the ring a JWKS reload replaces.
    static func verifier(secret: [UInt8], settings: JWTSettings) throws -> (verifier: JWTVerifier, ring: JWTKeyRing) {
        let ring = JWTKeyRing(try Self.keys(secret: secret, settings: settings))
        return (JWTVerifier(keys: ring, issuer: settings.issuer, audience: settings.audience), ring)
    }

    /// Re-reads the JWKS file when it changes; a file that no longer loads leaves the keys as they were.
    static func watchJWKS(
        _ file: String,
        secret: [UInt8],
        settings: JWTSettings,
        ring: JWTKeyRing,
        cache: VerifiedTokenCache,
        logger: Logger
    ) async {
        func stamp() -> String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: file)
            return "\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)/\(attributes?[.size] ?? 0)"
        }
        var seen = stamp()
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let current = stamp()
            guard current != seen else { continue }
            seen = current
            do {
                let keys = try Self.keys(secret: secret, settings: settings)
                ring.replace(with: keys)
                cache.removeAll()
                logger.notice("reloaded the JWKS file", metadata: ["path": "\(file)", "keys": "\(keys.count)"])
            } catch {
                logger.error("the JWKS file does not load; keeping the previous keys", metadata: ["error": "\(error)"])
            }
        }
    }
}
