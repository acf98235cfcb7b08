import Auth
import NIOConcurrencyHelpers
import Testing

@Suite("rate limiting")
struct RateLimiterTests {
    final class FakeTime: Sendable {
        let value = NIOLockedValueBox(1000.0)
        func advance(_ seconds: Double) { self.value.withLockedValue { $0 += seconds } }
    }

    @Test("a tester gets a burst of 40, then 20 per second; services are unlimited")
    func testerBucket() {
        let time = FakeTime()
        let limiter = RateLimiter(now: { time.value.withLockedValue { $0 } })
        for index in 0..<40 {
            #expect(limiter.check(role: "tester", org: "o", subject: "t") == .allowed(remaining: 39 - index, limit: 40))
        }
        guard case .limited(let retryAfter, _) = limiter.check(role: "tester", org: "o", subject: "t") else {
            Issue.record("the 41st call was allowed")
            return
        }
        #expect(abs(retryAfter - 0.05) < 1e-9)
        #expect(limiter.check(role: "tester", org: "o", subject: "other") != nil, "buckets are per caller")
        time.advance(0.051)
        #expect(limiter.check(role: "tester", org: "o", subject: "t") == .allowed(remaining: 0, limit: 40))
        for _ in 0..<10_000 { #expect(limiter.check(role: "service", org: "o", subject: "s") == nil) }
    }

    @Test("researchers get 400 at once")
    func researcherBurst() {
        let limiter = RateLimiter(now: { 5 })
        var allowed = 0
        for _ in 0..<500 {
            if case .allowed = limiter.check(role: "researcher", org: "o", subject: "r") { allowed += 1 }
        }
        #expect(allowed == 400)
    }
}
