import RPCCore
import Testing

@Suite("ASCII lower case for header names")
struct ASCIILowercasedTests {
    @Test("upper-case ASCII letters become lower case, nothing else changes, short or long", arguments: [
        ("Host", "host"), ("authorization", "authorization"), ("Authorization", "authorization"),
        ("X-Request-ID", "x-request-id"), ("Access-Control-Request-Method", "access-control-request-method"),
        ("ÄÖÜ-Name", "ÄÖÜ-name"), ("@[`{", "@[`{"), ("", ""),
    ])
    func lowercased(_ name: String, _ expected: String) {
        #expect(name.asciiLowercased == expected)
        #expect(name.asciiLowercased == String(name.map { $0.isASCII ? Character($0.lowercased()) : $0 }))
    }
}
