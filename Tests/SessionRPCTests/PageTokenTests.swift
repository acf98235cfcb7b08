import Foundation
import ServiceErrors
import SessionCore
@testable import SessionRPC
import Testing

@Suite("list cursors")
struct PageTokenTests {
    @Test("a cursor round-trips its time exactly, so a page boundary never repeats or skips a row")
    func exactRoundTrip() throws {
        // A creation time with sub-microsecond bits, as Date() produces.
        let created = Date(timeIntervalSince1970: 1_795_953_418.204614_437)
        let cursor = SessionCursor(createdAt: created, id: "sess_01ABC")
        let decoded = try #require(try PageToken.decode(PageToken.encode(cursor), field: "cursor"))
        #expect(decoded.createdAt.timeIntervalSince1970.bitPattern == created.timeIntervalSince1970.bitPattern)
        #expect(decoded.id == "sess_01ABC")
        #expect(!PageToken.encode(cursor).contains("sess_"), "cursors are opaque")
    }

    @Test("a cursor this API did not make is INVALID_ARGUMENT naming the field", arguments: [
        "nope", "bm9wZQ", "eHg6", "===", "ZmZmZmZmZmZmZmZmZmZmZjp4",
    ])
    func rejectsForeignCursors(token: String) {
        #expect {
            _ = try PageToken.decode(token, field: "cursor")
        } throws: { error in
            (error as? ServiceError)?.code == .invalidArgument
                && (error as? ServiceError)?.fieldViolations.first?.field == "cursor"
        }
    }
}
