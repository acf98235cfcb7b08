/// What became of a client's recent stream IDs, so frames for streams nghttp2 no longer keeps get
/// the errors RFC 9113 §5.1 asks for.
///
/// nghttp2 is told to forget closed streams (they cost ~80 KiB per busy connection), and then
/// ignores every frame on them. This remembers three bits for each of the last `window` client
/// stream IDs — opened, ended by the peer (END_STREAM received), reset by the peer — in
/// 3 × window / 8 bytes, whatever the connection's age. IDs older than the window are `unknown`.
struct StreamHistory {
    /// What the connection knows about a client stream ID that nghttp2 has no stream for.
    enum Fate: Equatable {
        /// Higher than every ID the client used: a new stream.
        case new
        /// Lower than an ID the client used, and never opened: implicitly closed (§5.1.1).
        case neverOpened
        /// Opened, and the client ended its side (END_STREAM) before the stream closed: anything
        /// more it sends there is a connection error (RFC 9113 §5.1, "closed").
        case endedByPeer
        /// Opened, and the client reset it: anything more it sends there is a stream error.
        case resetByPeer
        /// Opened and closed by us (our reset, or our END_STREAM while the client still sent):
        /// frames the client sent before it saw that may still arrive (§5.1, "closed").
        case closedLocally
        /// Too old to remember.
        case unknown
    }

    /// How many client stream IDs are remembered (client IDs are odd, so 2 × window numbers).
    static let window = 1024
    private static let words = window / 64

    /// The client stream ID that `bit 0` of the bitmaps stands for; always odd.
    private var base: Int32 = 1
    private var highest: Int32 = 0
    private var opened = [UInt64](repeating: 0, count: Self.words)
    private var ended = [UInt64](repeating: 0, count: Self.words)
    private var reset = [UInt64](repeating: 0, count: Self.words)

    /// A client HEADERS frame arrived for `id`, higher than every ID before it.
    mutating func open(_ id: Int32) {
        guard id > self.highest, id & 1 == 1 else { return }
        self.highest = id
        self.slide(toInclude: id)
        self.set(&self.opened, id)
    }

    /// The client sent END_STREAM on `id`.
    mutating func peerEnded(_ id: Int32) {
        guard self.contains(id) else { return }
        self.set(&self.ended, id)
    }

    /// The client sent RST_STREAM on `id`.
    mutating func peerReset(_ id: Int32) {
        guard self.contains(id) else { return }
        self.set(&self.reset, id)
    }

    /// We answered a frame on a reset stream with RST_STREAM: later frames there are ignored,
    /// so a client cannot make us queue one reset per frame.
    mutating func answered(_ id: Int32) {
        guard self.contains(id) else { return }
        self.clear(&self.reset, id)
        self.clear(&self.ended, id)
    }

    /// What `id` is, for a frame that arrived on a stream nghttp2 does not have.
    func fate(of id: Int32) -> Fate {
        if id > self.highest { return .new }
        guard self.contains(id) else { return .unknown }
        guard self.isSet(self.opened, id) else { return .neverOpened }
        if self.isSet(self.reset, id) { return .resetByPeer }
        return self.isSet(self.ended, id) ? .endedByPeer : .closedLocally
    }

    // MARK: Bits

    private func contains(_ id: Int32) -> Bool {
        id & 1 == 1 && id >= self.base && id <= self.highest && self.index(id) < Self.window
    }

    private func index(_ id: Int32) -> Int { Int((id - self.base) / 2) }

    private func isSet(_ bits: [UInt64], _ id: Int32) -> Bool {
        let index = self.index(id)
        return bits[index / 64] & (1 << UInt64(index % 64)) != 0
    }

    private func set(_ bits: inout [UInt64], _ id: Int32) {
        let index = self.index(id)
        bits[index / 64] |= 1 << UInt64(index % 64)
    }

    private func clear(_ bits: inout [UInt64], _ id: Int32) {
        let index = self.index(id)
        bits[index / 64] &= ~(1 << UInt64(index % 64))
    }

    /// Moves the window forward, whole words at a time, until `id` fits; older IDs drop out.
    private mutating func slide(toInclude id: Int32) {
        let index = self.index(id)
        guard index >= Self.window else { return }
        let dropWords = min(Self.words, (index - Self.window) / 64 + 1)
        if dropWords == Self.words {
            // Jumped past everything remembered: start the window at `id`'s word.
            self.opened = [UInt64](repeating: 0, count: Self.words)
            self.ended = [UInt64](repeating: 0, count: Self.words)
            self.reset = [UInt64](repeating: 0, count: Self.words)
            self.base += Int32(index / 64 * 64 * 2)
            return
        }
        self.opened.removeFirst(dropWords)
        self.opened += repeatElement(0, count: dropWords)
        self.ended.removeFirst(dropWords)
        self.ended += repeatElement(0, count: dropWords)
        self.reset.removeFirst(dropWords)
        self.reset += repeatElement(0, count: dropWords)
        self.base += Int32(dropWords * 64 * 2)
    }
}
