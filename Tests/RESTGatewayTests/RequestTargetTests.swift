import HTTPMessages
import TestSupport
import Testing

@testable import RESTGateway

@Suite("Request targets")
struct RequestTargetTests {
    @Test("splits paths into decoded segments and queries into decoded pairs")
    func examples() {
        let target = RequestTarget("/api/sessions/sess%5F1?limit=5&status=active&a+b=c%20d&empty=&flag")
        #expect(target.segments == ["api", "sessions", "sess_1"])
        #expect(target.query.map(\.name) == ["limit", "status", "a b", "empty", "flag"])
        #expect(target.query.map(\.value) == ["5", "active", "c d", "", ""])
        #expect(!target.malformed)
        #expect(RequestTarget("/api/sessions/").segments == ["api", "sessions"])
        #expect(RequestTarget("/").segments == [""])
        #expect(RequestTarget("").segments == [])
        #expect(RequestTarget("*").segments == [])
        #expect(RequestTarget("/a%2Fb/c").segments == ["a/b", "c"])
        #expect(RequestTarget("/a%zz").malformed)
        #expect(RequestTarget("/a?x=%ff").malformed)  // not UTF-8
    }

    @Test("percent-decoding by itself: escapes, `+` in queries only, broken escapes and bytes that are not UTF-8")
    func percentDecodingWhenEdgeCases() {
        let cases: [(text: String, plusIsSpace: Bool, decoded: String?)] = [
            ("", false, ""), ("plain", false, "plain"), ("a%20b", false, "a b"), ("%2f%2F", false, "//"),
            ("a+b", false, "a+b"), ("a+b", true, "a b"), ("%2B", true, "+"), ("%C3%A9", false, "é"),
            ("é", true, "é"), ("%", false, nil), ("%4", true, nil), ("a%zz", false, nil), ("%ff", false, nil),
            ("%C3", true, nil), ("%00", false, "\u{0}"),
        ]
        for (text, plusIsSpace, decoded) in cases {
            #expect(Self.decoded(text[...], plusIsSpace: plusIsSpace) == decoded, "\(text) \(plusIsSpace)")
        }
    }

    /// `PercentDecoding.text` over a string's bytes.
    static func decoded(_ text: Substring, plusIsSpace: Bool) -> String? {
        var text = String(text)
        return text.withUTF8 { PercentDecoding.text($0[...], plusIsSpace: plusIsSpace) }
    }

    /// The straightforward reading (split on "/" after dropping the query, then on "&" and "=").
    static func reference(_ target: String) -> (segments: [String], query: [String], malformed: Bool) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var malformed = false
        var segments = parts[0].split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part in
            Self.decoded(part, plusIsSpace: false) ?? { malformed = true; return "" }()
        }
        if segments.count > 1, segments.last == "" { segments.removeLast() }
        var query: [String] = []
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = Self.decoded(halves[0], plusIsSpace: true),
                    let value = Self.decoded(halves.count > 1 ? halves[1] : "", plusIsSpace: true)
                else {
                    malformed = true
                    continue
                }
                query.append("\(name)=\(value)")
            }
        }
        return (segments, query, malformed)
    }

    @Test("agrees with the straightforward reading on 20,000 random targets")
    func randomTargets() async {
        let alphabet = Array("/?&=%+ab9Fé_.".unicodeScalars)
        for index in 0..<20_000 {
            await yieldNowAndThen(iteration: index, every: 500)
            let target = String(String.UnicodeScalarView((0..<Int.random(in: 0...24)).map { _ in alphabet.randomElement()! }))
            let parsed = RequestTarget(target)
            let expected = Self.reference(target)
            #expect(parsed.segments == expected.segments, "\(target)")
            #expect(parsed.query.map { "\($0.name)=\($0.value)" } == expected.query, "\(target)")
            #expect(parsed.malformed == expected.malformed, "\(target)")
        }
    }

    @Test("generated request IDs are 32 lower-case hex digits, distinct and counting up")
    func requestIDs() {
        let ids = (0..<1000).map { _ in RequestIDs.next() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.utf8.count == 32 && $0.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) } })
        #expect(ids == ids.sorted())
        #expect(RequestIDs.requestID("client-given-id") == "client-given-id")
        #expect(RequestIDs.requestID("has space").utf8.count == 32)
    }
}
