import SessionAPI
import SessionCore
@testable import SessionRPC
import Testing

@Suite("payout status mapping")
struct PayoutStatusTests {
    @Test("every stored payout status has an API status; one being delivered is still queued", arguments: [
        (SessionCore.Payout.Status.queued, SessionAPI.PayoutStatus.queued), (.claimed, .queued), (.delivered, .delivered), (.failed, .failed),
    ])
    func mapping(row: (stored: SessionCore.Payout.Status, api: SessionAPI.PayoutStatus)) {
        #expect(SessionRPCProvider.status(row.stored) == row.api)
    }
}
