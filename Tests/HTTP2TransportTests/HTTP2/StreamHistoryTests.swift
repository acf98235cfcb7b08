import TestSupport
import Testing

@testable import HTTP2Transport

@Suite("StreamHistory: what became of a client's stream IDs")
struct StreamHistoryTests {
    @Test("an ID above every one used is new; lower ones never opened are implicitly closed")
    func fateWhenSkipped() {
        var history = StreamHistory()
        history.open(1)
        history.open(7)
        #expect(history.fate(of: 9) == .new)
        #expect(history.fate(of: 3) == .neverOpened)
        #expect(history.fate(of: 5) == .neverOpened)
        #expect(history.fate(of: 1) == .closedLocally)
        #expect(history.fate(of: 7) == .closedLocally)
    }

    @Test("END_STREAM and RST_STREAM from the client are told apart; reset wins")
    func fateWhenPeerClosed() {
        var history = StreamHistory()
        for id: Int32 in [1, 3, 5] { history.open(id) }
        history.peerEnded(1)
        history.peerReset(3)
        history.peerEnded(5)
        history.peerReset(5)
        #expect(history.fate(of: 1) == .endedByPeer)
        #expect(history.fate(of: 3) == .resetByPeer)
        #expect(history.fate(of: 5) == .resetByPeer)
    }

    @Test("a stream answered once is ignored afterwards")
    func answeredWhenReset() {
        var history = StreamHistory()
        history.open(1)
        history.peerReset(1)
        history.answered(1)
        #expect(history.fate(of: 1) == .closedLocally)
    }

    @Test("even IDs, lower IDs and unknown streams change nothing")
    func openWhenNotHigher() {
        var history = StreamHistory()
        history.open(5)
        history.open(3)  // not higher: ignored
        history.open(6)  // even: not a client stream
        history.peerEnded(9)  // never opened
        #expect(history.fate(of: 3) == .neverOpened)
        #expect(history.fate(of: 9) == .new)
        #expect(history.fate(of: 5) == .closedLocally)
    }

    @Test("the window slides: old IDs become unknown, recent ones stay exact", arguments: [2_049, 2_177, 4_097, 1_000_001])
    func openWhenPastTheWindow(last: Int32) async {
        var history = StreamHistory()
        var id: Int32 = 1
        while id < last {
            await yieldNowAndThen(iteration: Int(id), every: 20_001)
            history.open(id)
            if id % 4 == 1 { history.peerEnded(id) }
            id += 2
        }
        history.open(last)
        #expect(history.fate(of: 1) == .unknown)
        #expect(history.fate(of: last) == .closedLocally)
        // The most recent IDs are still remembered exactly.
        for recent in stride(from: last - 2, to: last - 200, by: -2) {
            #expect(history.fate(of: recent) == (recent % 4 == 1 ? .endedByPeer : .closedLocally))
        }
    }

    @Test("a jump far past the window keeps the new ID and forgets the rest")
    func openWhenJumpingFar() {
        var history = StreamHistory()
        history.open(1)
        history.open(1_000_001)
        #expect(history.fate(of: 1) == .unknown)
        #expect(history.fate(of: 1_000_001) == .closedLocally)
        #expect(history.fate(of: 999_999) == .neverOpened)
        #expect(history.fate(of: 1_000_003) == .new)
    }
}
