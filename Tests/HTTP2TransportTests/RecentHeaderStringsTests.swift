import Testing

@testable import HTTP2Transport

@Suite("RecentHeaderStrings")
struct RecentHeaderStringsTests {
    private func storage(_ string: String) -> UnsafeRawPointer? {
        string.utf8.withContiguousStorageIfAvailable { UnsafeRawPointer($0.baseAddress) } ?? nil
    }

    private func received(_ text: String, _ recent: inout RecentHeaderStrings) -> String {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { recent.string($0) }
    }

    @Test("the same long value comes back as the same string; other values as themselves")
    func reuse() {
        var recent = RecentHeaderStrings()
        let path = "/sessions.v1.SessionService/GetSession"
        let first = self.received(path, &recent)
        let second = self.received(path, &recent)
        #expect(first == path && second == path)
        #expect(self.storage(first) == self.storage(second))
        let other = self.received("/sessions.v1.SessionService/GetSessionX", &recent)
        #expect(other == "/sessions.v1.SessionService/GetSessionX")
        // Same length, different bytes: never confused.
        let sameLength = self.received("/sessions.v1.SessionService/GetSessioN", &recent)
        #expect(sameLength == "/sessions.v1.SessionService/GetSessioN")
        #expect(self.received("short", &recent) == "short")
        #expect(self.received("", &recent) == "")
    }

    @Test("keeps at most its capacity, replacing the oldest; invalid UTF-8 is repaired as String does")
    func capacityAndRepair() {
        var recent = RecentHeaderStrings(capacity: 2)
        let a = self.received("value-number-one-a", &recent)
        _ = self.received("value-number-two-b", &recent)
        _ = self.received("value-number-three", &recent)  // replaces the first
        let again = self.received("value-number-one-a", &recent)
        #expect(again == a)
        #expect(self.storage(again) != self.storage(a))
        // Longer than the limit: decoded every time, never kept.
        var limited = RecentHeaderStrings(maxLength: 20)
        let long = String(repeating: "x", count: 21)
        let firstLong = self.received(long, &limited)
        let secondLong = self.received(long, &limited)
        #expect(firstLong == long && secondLong == long)
        #expect(self.storage(firstLong) != self.storage(secondLong))
        let invalid: [UInt8] = Array("0123456789abcdef".utf8) + [0xFF]
        let repaired = invalid.withUnsafeBufferPointer { recent.string($0) }
        #expect(repaired == String(decoding: invalid, as: UTF8.self))
    }
}
