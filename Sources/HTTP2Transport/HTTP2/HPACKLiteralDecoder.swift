private import CNghttp2

/// Decodes one literal header field representation with nghttp2's own HPACK decoder, so a value
/// decoded here is byte for byte what the session's decoder would have handed over, and a
/// representation it would reject (bad Huffman padding, an EOS symbol) is rejected here too.
enum HPACKLiteralDecoder {
    /// The value of `field`, a single literal representation without indexing or never indexed
    /// (which leave a decoder's dynamic table untouched, so a fresh decoder decodes it as the
    /// session's would), checked as RFC 9113 §8.2.1 wants; nil if either check fails.
    static func value(of field: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let base = field.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var inflater: OpaquePointer?
        guard nghttp2_hd_inflate_new(&inflater) == 0 else { return nil }
        defer { nghttp2_hd_inflate_del(inflater) }
        var header = nghttp2_nv()
        var flags: Int32 = 0
        let consumed = nghttp2_hd_inflate_hd2(inflater, &header, &flags, base, field.count, 1)
        guard consumed == field.count, flags & Int32(NGHTTP2_HD_INFLATE_EMIT.rawValue) != 0 else { return nil }
        let value = UnsafeBufferPointer(start: header.value, count: header.valuelen)
        guard nghttp2_check_header_value_rfc9113(header.value, header.valuelen) != 0 else { return nil }
        return Array(value)
    }
}
