import ProtoJSON
import Testing

@Suite("JSON parser")
struct JSONParserTests {
    @Test("accepts RFC 8259 documents and keeps number text exactly", arguments: [
        (#"{"a": [1, -0, 2.5e-3, 1E+2, true, false, null], "b": {}}"#, JSONValue.object([
            JSONMember("a", .array([.number("1"), .number("-0"), .number("2.5e-3"), .number("1E+2"), .bool(true), .bool(false), .null])),
            JSONMember("b", .object([])),
        ])),
        (#" "\u00e9\ud83d\ude00\n\"\\\/" "#, .string("é😀\n\"\\/")),
        ("9223372036854775808", .number("9223372036854775808")),
        (#"{"a":1,"a":2}"#, .object([JSONMember("a", .number("1")), JSONMember("a", .number("2"))])),
        ("[]", .array([])),
    ])
    func accepts(_ text: String, _ expected: JSONValue) throws {
        #expect(try JSONParser.parse(Array(text.utf8)) == expected)
    }

    @Test("rejects what RFC 8259 does not allow", arguments: [
        #"{"a":1,}"#, "[1,]", "01", "1.", ".5", "-", "+1", "1e", "tru", "nul", "", " ", "1 2", #""abc"#,
        "\"\u{01}\"", #""\ud800""#, #""\udc00""#, #""\x""#, #"{"a" 1}"#, "{a:1}", "[1 2]", "NaN", "'a'",
        "// comment\n1",
    ])
    func rejects(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test("rejects invalid UTF-8 and nesting past the limit")
    func rejectsBytesAndDepth() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xC3, 0x22]) }
        let deep = String(repeating: "[", count: JSONParser.maximumDepth + 1) + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(deep.utf8)) }
        let fine = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try JSONParser.parse(Array(fine.utf8)) }
    }

    @Test("the error says where")
    func errorOffset() throws {
        do {
            _ = try JSONParser.parse(Array(#"{"a": tru}"#.utf8))
            Issue.record("parsed")
        } catch {
            #expect(error.offset == 6)
            #expect(error.description.contains("byte 6"))
        }
    }
}

@Suite("JSON writer")
struct JSONWriterTests {
    @Test("escapes what JSON requires and parses back to the same strings")
    func escaping() throws {
        let texts = ["plain", "quote \" backslash \\ slash /", "tab\tnewline\nreturn\r", "\u{00}\u{1F}\u{7F}", "é😀 日本"]
        for text in texts {
            var writer = JSONWriter()
            writer.string(text)
            #expect(try JSONParser.parse(writer.bytes) == .string(text))
        }
    }

    @Test("writes every integer as Swift prints it, extremes included")
    func integers() {
        var values: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, Int64.max, Int64.min, Int64(Int32.min), Int64(Int32.max)]
        for _ in 0..<1000 { values.append(Int64.random(in: .min ... .max)) }
        for value in values {
            var writer = JSONWriter()
            writer.beginArray()
            writer.integer(value)
            writer.integer(Int32(truncatingIfNeeded: value))
            writer.integer(UInt64(bitPattern: value))
            writer.endArray()
            let expected = "[\(value),\(Int32(truncatingIfNeeded: value)),\(UInt64(bitPattern: value))]"
            #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
        }
    }

    @Test("inserts commas and writes numbers as JSON numbers")
    func structure() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("a")
        writer.integer(Int64.max)
        writer.key("b")
        writer.beginArray()
        writer.double(1.5)
        writer.double(-0.0)
        writer.double(2)
        writer.double(.infinity)
        writer.double(1e300)
        writer.endArray()
        writer.key("c")
        writer.null()
        writer.endObject()
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"a":9223372036854775807,"b":[1.5,-0,2,"Infinity",1e+300],"c":null}"#)
    }
}
