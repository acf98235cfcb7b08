import Foundation
import Synchronization

/// Tokens already verified, so a client that sends the same token on every call pays for the
/// signature and the JSON once. Bounded: when full it starts over. An entry is used only until
/// its token expires (with the verifier's clock skew), and never outlives the key set it was
/// verified with (`removeAll` on rotation).
package final class VerifiedTokenCache: Sendable {
    private struct Entry {
        var claims: JWTVerifier.Claims
        /// When the cached verdict stops being true.
        var validUntil: Double
    }

    package let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    package init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    package func claims(for token: String, now: Date) -> JWTVerifier.Claims? {
        let now = now.timeIntervalSince1970
        return self.entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard now < entry.validUntil else {
                entries[token] = nil
                return nil
            }
            return entry.claims
        }
    }

    package func insert(_ token: String, _ claims: JWTVerifier.Claims, validUntil: Date) {
        self.entries.withLock { entries in
            if entries.count >= self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = Entry(claims: claims, validUntil: validUntil.timeIntervalSince1970)
        }
    }

    package func removeAll() {
        self.entries.withLock { $0.removeAll() }
    }

    package var count: Int { self.entries.withLock { $0.count } }
}
