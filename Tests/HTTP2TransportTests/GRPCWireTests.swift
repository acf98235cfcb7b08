import Testing

@testable import HTTP2Transport

@Suite("gRPC header lists")
struct GRPCWireTests {
    @Test("a comma-separated list names a token, whatever the spacing", arguments: [
        ("identity,deflate,gzip", true), ("gzip", true), (" gzip ", true), ("identity, gzip", true), ("identity,\tgzip", true),
        ("identity", false), ("gzipped", false), ("xgzip", false), ("", false), (",,", false), ("g zip", false), ("GZIP", false),
    ] as [(String, Bool)])
    func listContains(_ list: String, _ expected: Bool) {
        #expect(GRPCWire.listContains(list, "gzip") == expected)
    }
}
