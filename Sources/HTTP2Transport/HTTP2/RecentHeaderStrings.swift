import Foundation

/// Header names and values one connection received lately, handed out again when the same bytes
/// arrive: a client sends the same path, content type and credentials on every call, so reusing
/// the string skips an allocation and a UTF-8 check per field, and later comparisons with it
/// (the token cache's, for one) find the same storage and stop at once.
///
/// Only strings too long to be stored inline are kept (up to 15 UTF-8 bytes a `String` needs no
/// allocation anyway) and not longer than `maxLength` (a token of a few hundred bytes is kept; a
/// client cannot make an idle connection hold large headers); at most `capacity` of them, the
/// oldest replaced first.
struct RecentHeaderStrings {
    private var strings: [String] = []
    private var oldest = 0
    private let capacity: Int
    private let maxLength: Int

    init(capacity: Int = 16, maxLength: Int = 1024) {
        self.capacity = capacity
        self.maxLength = maxLength
    }

    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.count > 15, bytes.count <= self.maxLength, let start = bytes.baseAddress else {
            return String(decoding: bytes, as: UTF8.self)
        }
        for known in self.strings where known.utf8.count == bytes.count {
            let same = known.utf8.withContiguousStorageIfAvailable { memcmp($0.baseAddress!, start, bytes.count) == 0 }
            if same == true { return known }
        }
        let string = String(decoding: bytes, as: UTF8.self)
        if self.strings.count < self.capacity {
            self.strings.append(string)
        } else {
            self.strings[self.oldest] = string
            self.oldest = (self.oldest + 1) % self.capacity
        }
        return string
    }
}
