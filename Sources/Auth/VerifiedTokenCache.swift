import Foundation
import NIOConcurrencyHelpers

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

    private struct State {
        var entries: [String: Entry] = [:]
        /// The last token looked up or added: callers that repeat one token (a service's) are
        /// answered by comparing it, without hashing it.
        var last: (token: String, entry: Entry)?
    }

    package let capacity: Int
    private let state = NIOLockedValueBox(State())

    package init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    package func claims(for token: String, now: Date) -> JWTVerifier.Claims? {
        let now = now.timeIntervalSince1970
        return self.state.withLockedValue { state in
            let entry: Entry
            if let last = state.last, last.token == token {
                entry = last.entry
            } else if let found = state.entries[token] {
                entry = found
                state.last = (token, found)
            } else {
                return nil
            }
            guard now < entry.validUntil else {
                state.entries[token] = nil
                state.last = nil
                return nil
            }
            return entry.claims
        }
    }

    package func insert(_ token: String, _ claims: JWTVerifier.Claims, validUntil: Date) {
        self.state.withLockedValue { state in
            if state.entries.count >= self.capacity { state.entries.removeAll(keepingCapacity: true) }
            let entry = Entry(claims: claims, validUntil: validUntil.timeIntervalSince1970)
            state.entries[token] = entry
            state.last = (token, entry)
        }
    }

    package func removeAll() {
        self.state.withLockedValue { $0 = State() }
    }

    package var count: Int { self.state.withLockedValue { $0.entries.count } }
}
