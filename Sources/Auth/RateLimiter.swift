import Foundation
import NIOConcurrencyHelpers

/// Per-caller token buckets: each caller (org and subject) may make `rate` calls per second on
/// average and `burst` at once. Rates come per role; a role without a limit is unlimited.
package final class RateLimiter: Sendable {
    package struct Limit: Sendable, Equatable {
        package var rate: Double
        package var burst: Double

        package init(rate: Double, burst: Double) {
            self.rate = rate
            self.burst = burst
        }
    }

    /// The defaults: testers 20/s (burst 40), researchers and admins 200/s (burst 400), services
    /// unlimited (internal services and load tests run as `service`).
    package static let defaultLimits: [String: Limit] = [
        "tester": Limit(rate: 20, burst: 40),
        "researcher": Limit(rate: 200, burst: 400),
        "admin": Limit(rate: 200, burst: 400),
    ]

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    /// Outcome of one call's check.
    package enum Decision: Sendable, Equatable {
        case allowed(remaining: Int, limit: Int)
        /// Denied; a token is back after this many seconds.
        case limited(retryAfter: Double, limit: Int)
    }

    private let limits: [String: Limit]
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])
    private let now: @Sendable () -> Double
    /// Buckets kept at most; past it, full (idle) buckets are dropped, as a new one starts full.
    private let maxBuckets = 100_000

    package init(limits: [String: Limit] = RateLimiter.defaultLimits, now: @escaping @Sendable () -> Double = {
        ProcessInfo.processInfo.systemUptime
    }) {
        self.limits = limits
        self.now = now
    }

    /// Takes one token from the caller's bucket if it has one.
    package func check(role: String, org: String, subject: String) -> Decision? {
        guard let limit = self.limits[role] else { return nil }  // unlimited
        let key = org + "\u{0}" + subject
        let now = self.now()
        return self.buckets.withLockedValue { buckets in
            if buckets.count >= self.maxBuckets { Self.dropIdle(&buckets, limits: self.limits, now: now) }
            var bucket = buckets[key] ?? Bucket(tokens: limit.burst, updated: now)
            bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.updated) * limit.rate)
            bucket.updated = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else {
                return .limited(retryAfter: (1 - bucket.tokens) / limit.rate, limit: Int(limit.burst))
            }
            bucket.tokens -= 1
            return .allowed(remaining: Int(bucket.tokens), limit: Int(limit.burst))
        }
    }

    private static func dropIdle(_ buckets: inout [String: Bucket], limits: [String: Limit], now: Double) {
        // A bucket idle long enough to have refilled is equivalent to no bucket.
        let slowest = limits.values.map { $0.burst / $0.rate }.max() ?? 0
        buckets = buckets.filter { now - $0.value.updated < slowest }
    }
}
