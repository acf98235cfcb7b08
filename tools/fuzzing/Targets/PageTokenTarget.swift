import Foundation
import SessionCore
@testable import SessionRPC

/// List cursors (`pageToken`/`cursor`) as `ListSessions` and `ListPayouts` read them.
///
/// Property: a token that decodes re-encodes to a token that decodes to the same cursor.
enum PageTokenTarget {
    @Sendable static func run(_ bytes: UnsafeRawBufferPointer) {
        let token = String(decoding: bytes, as: UTF8.self)
        guard let cursor = try? PageToken.decode(token, field: "cursor") else { return }
        let again = try? PageToken.decode(PageToken.encode(cursor), field: "cursor")
        precondition(again == cursor, "cursor '\(token)' does not round-trip")
    }

    static var seeds: [[UInt8]] {
        [
            SessionCursor(createdAt: Date(timeIntervalSince1970: 1_773_655_200), id: "ses_0123456789abcdef"),
            SessionCursor(createdAt: Date(timeIntervalSince1970: 1_773_655_200.123456), id: "pay_1"),
            SessionCursor(createdAt: Date(timeIntervalSince1970: 0), id: "x:y"),
        ].map { Array(PageToken.encode($0).utf8) }
    }
}
