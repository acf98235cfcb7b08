import Auth
import Foundation
import Logging

/// Which JWT keys the server accepts besides its HMAC secret, and whom tokens must name.
package struct JWTConfiguration: Sendable {
    /// PEM public key files (RSA, EC P-256 or P-384).
    package var publicKeyFiles: [String] = []
    /// A JWKS file, re-read within seconds when it changes.
    package var jwksFile: String?
    package var issuer: String?
    package var audience: String?

    package init(publicKeyFiles: [String] = [], jwksFile: String? = nil, issuer: String? = nil, audience: String? = nil) {
        self.publicKeyFiles = publicKeyFiles
        self.jwksFile = jwksFile
        self.issuer = issuer
        self.audience = audience
    }

    /// Every key tokens may be signed with: the HMAC secret, the PEM public keys, the JWKS keys.
    package func keys(secret: [UInt8]) throws(StartupFailure) -> [JWTKey] {
        var keys = [JWTKey(.hmac(secret))]
        for file in self.publicKeyFiles {
            guard let pem = FileManager.default.contents(atPath: file) else {
                throw StartupFailure("--jwt-public-keys: cannot read \(file)")
            }
            do {
                keys.append(JWTKey(.publicKey(try PublicKey(pem: [UInt8](pem)))))
            } catch {
                throw StartupFailure("--jwt-public-keys: \(file): \(error)")
            }
        }
        if let file = self.jwksFile {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw StartupFailure("--jwks-file: cannot read \(file)")
            }
            do {
                keys += try JWTKey.jwks([UInt8](data))
            } catch {
                throw StartupFailure("--jwks-file: \(file): \(error)")
            }
        }
        return keys
    }

    /// The verifier over every configured key, and the ring a JWKS reload replaces.
    package func verifier(secret: [UInt8]) throws(StartupFailure) -> (verifier: JWTVerifier, ring: JWTKeyRing) {
        let ring = JWTKeyRing(try self.keys(secret: secret))
        return (JWTVerifier(keys: ring, issuer: self.issuer, audience: self.audience), ring)
    }

    /// Re-reads the JWKS file when it changes, until cancelled; a file that no longer loads leaves
    /// the keys as they were.
    func watchJWKS(_ file: String, secret: [UInt8], ring: JWTKeyRing, cache: VerifiedTokenCache, logger: Logger) async {
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
                let keys = try self.keys(secret: secret)
                ring.replace(with: keys)
                cache.removeAll()
                logger.notice("reloaded the JWKS file", metadata: ["path": "\(file)", "keys": "\(keys.count)"])
            } catch {
                logger.error("the JWKS file does not load; keeping the previous keys", metadata: ["error": "\(error)"])
            }
        }
    }
}
